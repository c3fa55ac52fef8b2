import { selectBackend } from "../engine/backend/selectBackend.js";
import type { ComputeBackend } from "../engine/backend/computeBackend.js";
import { physicalCoreCount } from "../engine/native/threads.js";

/** Chooses the kernels for a process once: native with `threads` (default: physical cores), else TypeScript with one warning line. */
export async function setUpKernels(threads: number | undefined, warn: (line: string) => void): Promise<ComputeBackend> {
  const { backend, fallbackReason } = selectBackend({ threads: threads ?? (await physicalCoreCount()) });
  if (fallbackReason) warn(`warning: ${fallbackReason}`);
  return backend;
}
