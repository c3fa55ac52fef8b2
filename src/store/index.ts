/**
 * The model store: downloading GGUF models (`pullModel`), the cache of downloaded models
 * (`listModels`, `removeCachedModel`) and turning a `--model` value into a file (`resolveModel`).
 * Knows nothing of the CLI; the CLI commands `pull`, `models` and `rm` are thin wrappers.
 */
export { StoreError, type StoreErrorCode } from "./errors.js";
export { resolveModel, type ResolveModelOptions, type ResolvedModel, type ResolvedModelSource } from "./resolveModel.js";
export { pullModel, type PullOptions, type PullResult } from "./pull.js";
export { listModels, type ModelCatalog, type ModelListing } from "./catalog.js";
export { removeCachedModel, describeCache, type RemovedModel } from "./cache.js";
export { listBuiltinModels, defaultModelPath, type BuiltinModel } from "./builtin.js";
export { parseSource, looksLikeSource, type ModelSource } from "./source.js";
export { pickGgufFile, DEFAULT_QUANT } from "./hfRepo.js";
export type { DownloadProgress } from "./download.js";
export type { ModelInfo } from "./modelInfo.js";
export { modelsDirFromEnv, hfEndpointFromEnv, DEFAULT_MODEL_FILE } from "./paths.js";
