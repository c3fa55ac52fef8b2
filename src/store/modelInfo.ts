/**
 * What `layerstream models` shows of a GGUF file: its architecture and quantization,
 * read from the header only (`general.architecture`, `general.file_type`).
 */
import { openGgufHeader } from "../engine/gguf/header.js";
import { inspectGguf, quantizationName } from "../engine/gguf/inspection.js";
import type { GgufFile } from "../engine/gguf/types.js";

export interface ModelInfo {
  readonly architecture?: string;
  /** e.g. Q4_K_M, Q8_0, F16, F32 */
  readonly quant?: string;
  /** `general.name` */
  readonly displayName?: string;
}

/** Reads a GGUF file's header; throws `GgufFormatError` when it is not a GGUF file. */
export function readModelInfo(filePath: string): ModelInfo {
  using file = openGgufHeader(filePath);
  return modelInfoOf(file);
}

export function modelInfoOf(file: GgufFile): ModelInfo {
  const report = inspectGguf(file);
  const quant = quantizationName(file);
  return {
    ...(report.architecture !== undefined ? { architecture: report.architecture } : {}),
    ...(quant !== undefined ? { quant } : {}),
    ...(report.name !== undefined ? { displayName: report.name } : {}),
  };
}
