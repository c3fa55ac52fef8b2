/**
 * layerstream's public API. Everything a program needs to run a GGUF model — in this process,
 * streamed from disk under a memory budget, or across workers on a LAN — through one object:
 *
 * ```ts
 * import { loadModel } from "layerstream";
 * await using model = await loadModel({ maxMemory: "4GB" });
 * for await (const piece of model.stream("Once upon a time", { maxTokens: 40 })) process.stdout.write(piece);
 * ```
 * See docs/API.md.
 */
export { loadModel } from "./api/loadModel.js";
export type { LoadedModel, TokenizeOptions, ChatOptions } from "./api/loadedModel.js";
export type { ChatMessage, ChatRole, ChatContentPart, ChatTool, ChatToolCall } from "./engine/chat/types.js";
export { CompletionStream, type CompletionResult, type CompletionTimings, type CompletionUsage } from "./api/completionStream.js";
export type { ModelInfo, ModelSource } from "./api/modelInfo.js";
export type { ModelStats } from "./api/modelStats.js";
export type { PerplexityOptions, PerplexityResult, PerplexityChunk } from "./api/perplexity.js";
export type { ClusterStats, WorkerShare } from "./root/cluster/clusterStats.js";
export { workerStatus, type WorkerStatusOptions, type WorkerReport } from "./api/workerStatus.js";
export type { WorkerStats, WorkerStatus, WorkerCapacity } from "./protocol/clusterControl.js";
export {
  ASSIGN_MODES,
  WIRE_ENCODINGS,
  KV_TYPES,
  DEFAULT_MAX_TOKENS,
  type AssignMode,
  type WireName,
  type KvType,
  type LoadModelOptions,
  type CompletionOptions,
  type SamplingOptions,
  type ProgressEvent,
} from "./api/options.js";
export type { StopReason } from "./engine/generate.js";
export { DEFAULT_SAMPLER_OPTIONS } from "./engine/sampling/options.js";

// errors: every error layerstream throws for bad input is a LayerstreamError with a `code`
export { LayerstreamError, OptionError, AbortError, QueueFullError, ModelFormatError, UnsupportedArchitectureError } from "./engine/errors.js";
export { GgufFormatError, type GgufErrorCode } from "./engine/gguf/errors.js";
export { UnsupportedTensorTypeError, TensorShapeError } from "./engine/quant/errors.js";
export { TokenizerError, type TokenizerErrorCode } from "./engine/tokenizer/errors.js";
export { SamplerOptionsError } from "./engine/sampling/errors.js";
export { ChatTemplateError, type ChatTemplateErrorCode } from "./engine/chat/errors.js";
export { ClusterError } from "./root/cluster/workerLinks.js";
export { ClusterKeyError } from "./host/clusterKey.js";
export { StoreError, type StoreErrorCode } from "./store/errors.js";
