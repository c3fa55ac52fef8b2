import path from "node:path";
import { modelFile } from "../helpers/paths.js";
import { describeEquivalence } from "./equivalence.js";

describeEquivalence({
  name: "stories260K",
  modelPath: () => modelFile("stories260K.gguf"),
  prompt: "Once upon a time, there was a little dog named Max",
  maxTokens: 32,
});
