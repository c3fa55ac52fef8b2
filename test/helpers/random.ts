export { seededRandom } from "../../src/engine/gguf/syntheticModel.js";
