/**
 * Chooses the compute backend once: the native addon when it loads and is wanted, else the
 * TypeScript kernels, with the one-line reason why the native ones are not in use.
 */
import { loadNative, nativeLoadFailure } from "../native/loadNative.js";
import type { ComputeBackend } from "./computeBackend.js";
import { nativeBackend } from "./nativeBackend.js";
import { TYPESCRIPT_BACKEND } from "./typescriptBackend.js";

export interface BackendChoice {
  readonly backend: ComputeBackend;
  /** why the native kernels are not in use, when they were wanted but are not (one line) */
  readonly fallbackReason?: string;
}

/**
 * @param options.preferNative false: the TypeScript kernels (default true; LAYERSTREAM_NATIVE=0 also says no)
 * @param options.threads the native thread pool's size (default: the addon's)
 */
export function selectBackend(options: { preferNative?: boolean; threads?: number } = {}): BackendChoice {
  if (options.preferNative === false) return { backend: TYPESCRIPT_BACKEND };
  const addon = loadNative();
  if (addon) return { backend: nativeBackend(addon, options.threads) };
  return { backend: TYPESCRIPT_BACKEND, fallbackReason: nativeLoadFailure()?.message };
}

let defaultChoice: ComputeBackend | undefined;

/** The backend used when a caller gives none (tests and tools): native when it loads. */
export function defaultBackend(): ComputeBackend {
  defaultChoice ??= selectBackend().backend;
  return defaultChoice;
}
