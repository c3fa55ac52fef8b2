/**
 * Errors the engine raises for bad input (a model it cannot run, a bad option).
 * The CLI maps every `LayerstreamError` to exit code 2 with its one-line message;
 * anything else is an internal error (exit code 1).
 */
export class LayerstreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A GGUF file that parses but is not a model layerstream can run (a missing tensor, a wrong shape, a bad hyper-parameter). */
export class ModelFormatError extends LayerstreamError {}

/** `general.architecture` names an architecture layerstream does not run. */
export class UnsupportedArchitectureError extends LayerstreamError {
  constructor(readonly architecture: string, supported: readonly string[]) {
    super("UNSUPPORTED_ARCHITECTURE", `unsupported architecture "${architecture}" (supported: ${supported.join(", ")})`);
  }
}

/** A bad option or argument: unknown, of the wrong kind, or out of range. */
export class OptionError extends LayerstreamError {}

/**
 * A call stopped because its AbortSignal fired. `name` is "AbortError", as for DOM aborts, so
 * `error.name === "AbortError"` checks work; the model or runner that was interrupted stays usable.
 */
export class AbortError extends LayerstreamError {
  constructor(message = "the operation was aborted") {
    super("ABORTED", message);
  }
}

/** More calls are waiting on a model than its queue holds (`maxQueue`); try again later. */
export class QueueFullError extends LayerstreamError {
  constructor(readonly queued: number) {
    super("QUEUE_FULL", `${queued} calls are already waiting for this model; try again later`);
  }
}
