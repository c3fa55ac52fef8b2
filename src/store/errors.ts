import { LayerstreamError } from "../engine/errors.js";

/**
 * The error type of the model store (`layerstream pull`, `models`, `rm`, `--model`).
 * Every message is one line naming the problem (the URL, file or folder, expected and
 * actual values) and, where there is one, what to do about it. A download cancelled through
 * its AbortSignal throws the engine's `AbortError` instead (its .part is kept for resuming).
 */
export type StoreErrorCode =
  /** the SOURCE is not an http(s) URL of a .gguf file or an `hf:` reference */
  | "BAD_SOURCE"
  /** `--sha256` is not 64 hex digits */
  | "BAD_SHA256"
  /** the server answered 404 (file or repository) */
  | "NOT_FOUND"
  /** the server answered 401/403: a gated or private repository, or a bad token */
  | "ACCESS_DENIED"
  /** any other unexpected HTTP status, or too many redirects */
  | "HTTP_STATUS"
  /** connection refused, reset, DNS failure, a body cut short */
  | "NETWORK"
  /** the downloaded bytes do not hash to the expected sha256 */
  | "SHA256_MISMATCH"
  /** the downloaded file is not a GGUF model (an HTML page, a truncated file …) */
  | "NOT_GGUF"
  /** a Hugging Face repository has no .gguf file matching the quant tag */
  | "NO_MATCHING_FILE"
  /** the only matching file is split into `-0000N-of-0000M` parts */
  | "SPLIT_NOT_SUPPORTED"
  /** the cache folder cannot be created or written */
  | "CACHE_NOT_WRITABLE"
  /** the disk holding the cache folder is full, or too small for the file */
  | "DISK_FULL"
  /** the cache already holds a file of that name downloaded from another URL */
  | "NAME_TAKEN"
  /** a model name that is neither cached nor built in */
  | "UNKNOWN_MODEL"
  /** `rm` of a model that ships in the package */
  | "BUILTIN_MODEL"
  /** a path given to --model that does not exist */
  | "MODEL_FILE_NOT_FOUND"
  /** --model names a path that exists but is a FIFO, socket, device or directory */
  | "NOT_A_FILE";

/** Finding, downloading, listing or removing a model went wrong (`code` says what; the message is one line). */
export class StoreError extends LayerstreamError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message);
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** A one-line reason from any thrown value (undici and fs errors carry a code). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as NodeJS.ErrnoException).code;
  const own = error.message.split("\n")[0];
  const inner = cause instanceof Error && cause.message !== error.message ? `: ${cause.message.split("\n")[0]}` : "";
  return code !== undefined && !own.includes(code) ? `${code} (${own}${inner})` : `${own}${inner}`;
}
