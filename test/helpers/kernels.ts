/** The kernel paths a conformance test should run on: native (when built) and TypeScript. */
import { loadNative } from "../../src/engine/native/loadNative.js";
import { useKernels } from "../../src/engine/quant/kernels.js";

export type KernelPath = "native" | "typescript";

export const KERNEL_PATHS: readonly KernelPath[] = loadNative() ? ["native", "typescript"] : ["typescript"];
if (!loadNative()) console.warn("native addon not built: conformance runs on the TypeScript kernels only");

export function selectKernels(path: KernelPath): void {
  useKernels({ preferNative: path === "native" });
}
