/**
 * Everything `layerstream models` lists: the built-in models, the cached ones and any
 * interrupted download, each with its architecture and quantization from the GGUF header.
 */
import fs from "node:fs";
import { GgufFormatError } from "../engine/gguf/errors.js";
import { listBuiltinModels } from "./builtin.js";
import { listCachedFiles } from "./cache.js";
import { readModelInfo, type ModelInfo } from "./modelInfo.js";
import { modelsDirFromEnv } from "./paths.js";

export interface ModelListing {
  /** file name: what `--model` and `rm` accept (with or without .gguf) */
  readonly name: string;
  readonly path: string;
  readonly nBytes: number;
  /** "partial": an interrupted download (`NAME.part`) that the same pull resumes */
  readonly kind: "builtin" | "cached" | "partial";
  /** the model `generate` runs without --model */
  readonly isDefault: boolean;
  readonly architecture?: string;
  readonly quant?: string;
  /** where a cached model was pulled from */
  readonly source?: string;
  /** full size of a partial download, when known */
  readonly nBytesTotal?: number;
  /** why the header could not be read */
  readonly problem?: string;
}

export interface ModelCatalog {
  readonly modelsDir: string;
  readonly models: readonly ModelListing[];
}

export function listModels(options: { readonly env?: NodeJS.ProcessEnv } = {}): ModelCatalog {
  const modelsDir = modelsDirFromEnv(options.env);
  const builtins = listBuiltinModels().map((m): ModelListing => ({ name: m.name, path: m.path, nBytes: fileSizeOf(m.path), kind: "builtin", isDefault: m.isDefault, ...headerInfo(m.path) }));
  const cached = listCachedFiles(modelsDir).map(
    (f): ModelListing => ({
      name: f.name,
      path: f.path,
      nBytes: f.nBytes,
      kind: f.complete ? "cached" : "partial",
      isDefault: false,
      ...(f.complete ? headerInfo(f.path) : {}),
      ...(f.source !== undefined ? { source: f.source } : {}),
      ...(f.nBytesTotal !== undefined ? { nBytesTotal: f.nBytesTotal } : {}),
    }),
  );
  return { modelsDir, models: [...builtins, ...cached] };
}

function headerInfo(filePath: string): Pick<ModelListing, "architecture" | "quant" | "problem"> {
  let info: ModelInfo;
  try {
    info = readModelInfo(filePath);
  } catch (error) {
    if (error instanceof GgufFormatError) return { problem: error.message };
    throw error;
  }
  return { ...(info.architecture !== undefined ? { architecture: info.architecture } : {}), ...(info.quant !== undefined ? { quant: info.quant } : {}) };
}

function fileSizeOf(filePath: string): number {
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}
