/**
 * `loadModel()`: the one way to get a runnable model, used by the CLI, the server and programs.
 */
import { AbortError } from "../engine/errors.js";
import { checkLoadOptions, DEFAULT_MAX_QUEUE, type LoadModelOptions } from "./options.js";
import { openModelCore } from "./modelCore.js";
import { LoadedModel } from "./loadedModel.js";
import { describeModel } from "./modelInfo.js";
import { resolveModel } from "../store/resolveModel.js";

/**
 * Finds the model (a path, a cached or built-in name, or a source pulled on first use; omitted:
 * the built-in default), opens it, plans memory, starts or connects workers when asked, and
 * brings resident layers into memory.
 *
 * ```ts
 * await using model = await loadModel({ model: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M", maxMemory: "2GB" });
 * console.log(await model.complete("Once upon a time", { maxTokens: 40, temperature: 0 }));
 * ```
 * @throws OptionError for an unknown or bad option (named), StoreError for a model that cannot be
 *   found or downloaded, GgufFormatError / ModelFormatError for a file that is not a usable GGUF,
 *   ClusterError when workers cannot be reached or refuse; AbortError when `signal` fires
 */
export async function loadModel(options: LoadModelOptions = {}): Promise<LoadedModel> {
  checkLoadOptions(options);
  if (options.signal?.aborted) throw new AbortError("loading was aborted");
  const resolved = await resolveModel(options.model, {
    signal: options.signal,
    log: options.log,
    onProgress: options.onProgress && ((p) => options.onProgress!({ phase: "download", done: p.nBytesDone, total: p.nBytesTotal ?? 0, unit: "bytes" })),
  });
  if (resolved.source === "default") options.log?.(`no model given: using the built-in ${resolved.name}`);
  const core = await openModelCore(resolved.path, options);
  const limits = { parallel: options.parallel ?? 1, maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE, promptCache: options.promptCache ?? true };
  return new LoadedModel(core, describeModel(core.model, resolved.source, core.runner.describe()), limits);
}
