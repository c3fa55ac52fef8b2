/**
 * The kernel paths a conformance test runs on: the native backend and the TypeScript one. A
 * missing addon fails the native path's tests (the backend cannot be made), it is not skipped.
 */
import { loadNative, nativeLoadFailure } from "../../src/engine/native/loadNative.js";
import { nativeBackend } from "../../src/engine/backend/nativeBackend.js";
import { TYPESCRIPT_BACKEND } from "../../src/engine/backend/typescriptBackend.js";
import type { ComputeBackend } from "../../src/engine/backend/computeBackend.js";

export type KernelPath = "native" | "typescript";

export const KERNEL_PATHS: readonly KernelPath[] = ["native", "typescript"];

export function backendFor(path: KernelPath): ComputeBackend {
  if (path === "typescript") return TYPESCRIPT_BACKEND;
  const addon = loadNative();
  if (!addon) throw new Error(`native addon unavailable: ${nativeLoadFailure()?.message ?? "no reason given"}`);
  return nativeBackend(addon);
}
