/**
 * The server's model: loaded in the background after the server listens, so /health can say
 * 503 while it loads and 200 once it is ready. Routes ask the slot for the model and get a
 * 503 (loading, or shutting down) instead while there is none.
 */
import { loadModel, type LoadedModel, type LoadModelOptions, type ProgressEvent } from "../index.js";
import { modelLoading, shuttingDown } from "./errors.js";

export type SlotState = "loading" | "ready" | "failed" | "closing";

export class ModelSlot {
  private current?: LoadedModel;
  private failure?: unknown;
  private closing = false;
  private loading?: Promise<LoadedModel | undefined>;
  private readonly abortLoad = new AbortController();
  /** the last progress event while loading (layers brought in, bytes downloaded) */
  progress?: ProgressEvent;

  /** @param aliases names a request's `model` may use besides the loaded model's own name (e.g. the --model given) */
  constructor(private readonly aliases: readonly string[] = []) {}

  get state(): SlotState {
    if (this.closing) return "closing";
    if (this.current) return "ready";
    return this.failure === undefined ? "loading" : "failed";
  }

  /** the loaded model, if any (no throw): for metrics and the dashboard */
  get loaded(): LoadedModel | undefined {
    return this.current;
  }

  get error(): unknown {
    return this.failure;
  }

  /** Starts loading; resolves with the model, or undefined when loading failed or was aborted (see `error`). */
  load(options: LoadModelOptions): Promise<LoadedModel | undefined> {
    this.loading ??= loadModel({
      ...options,
      signal: this.abortLoad.signal,
      onProgress: (event) => {
        this.progress = event;
        options.onProgress?.(event);
      },
    }).then(
      (model) => (this.current = model),
      (error: unknown) => {
        this.failure = error;
        return undefined;
      },
    );
    return this.loading;
  }

  /**
   * The model for a request.
   * @throws ApiError 503 while loading or shutting down
   */
  get(): LoadedModel {
    if (this.closing) throw shuttingDown();
    if (!this.current) throw modelLoading();
    return this.current;
  }

  /** Whether `name` (a request's `model`) names this model: its name, with or without .gguf, or an alias; any letter case. */
  answersTo(name: string, model: LoadedModel): boolean {
    const wanted = name.trim().toLowerCase().replace(/\.gguf$/, "");
    return [model.info.name, ...this.aliases].some((n) => n.toLowerCase().replace(/\.gguf$/, "") === wanted);
  }

  /** Refuses new work from now on; aborts a load in progress. */
  startClosing(): void {
    this.closing = true;
    this.abortLoad.abort();
  }

  /** Disposes the model once loading has settled (stops its workers, closes the file). */
  async dispose(): Promise<void> {
    this.startClosing();
    const model = await this.loading;
    await model?.dispose();
  }
}
