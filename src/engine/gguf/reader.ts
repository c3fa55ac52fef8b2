/** Public entry points for reading GGUF files. */
export { parseGguf, tensorData, alignUp, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUF_ALIGNMENT_KEY } from "./parse.js";
export { mmapAvailable, openGguf, type MappedGguf } from "./mapped.js";
export { GgufFormatError, type GgufErrorCode } from "./errors.js";
