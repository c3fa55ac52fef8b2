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

export class ModelFormatError extends LayerstreamError {}

export class UnsupportedArchitectureError extends LayerstreamError {
  constructor(readonly architecture: string, supported: readonly string[]) {
    super("UNSUPPORTED_ARCHITECTURE", `unsupported architecture "${architecture}" (supported: ${supported.join(", ")})`);
  }
}

export class OptionError extends LayerstreamError {}
