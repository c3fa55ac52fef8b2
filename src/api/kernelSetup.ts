import { useKernels, type KernelChoice } from "../engine/quant/kernels.js";
import { physicalCoreCount } from "../engine/native/threads.js";

/** Chooses the kernels for a command: native with `threads` (default: physical cores), else TypeScript with one warning line. */
export async function setUpKernels(threads: number | undefined, warn: (line: string) => void): Promise<{ choice: KernelChoice; threads: number }> {
  const wanted = threads ?? (await physicalCoreCount());
  const choice = useKernels({ threads: wanted });
  if (choice.fallbackReason) warn(`warning: ${choice.fallbackReason}`);
  return { choice, threads: choice.kind === "native" ? wanted : 1 };
}
