import path from "node:path";
import { SHARED_MODELS_DIR } from "../helpers/paths.js";
import { describeEquivalence } from "./equivalence.js";

describeEquivalence({
  name: "stories260K",
  modelPath: () => path.join(SHARED_MODELS_DIR, "gguf/stories260K.gguf"),
  prompt: "Once upon a time, there was a little dog named Max",
  maxTokens: 32,
});
