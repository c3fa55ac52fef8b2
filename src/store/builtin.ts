/**
 * The models that ship in the package's `models/` folder (no download needed); the default
 * one is what `generate` runs without --model.
 */
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_MODEL_FILE, builtinModelsDir } from "./paths.js";

export interface BuiltinModel {
  /** file name, e.g. stories260K.gguf */
  readonly name: string;
  readonly path: string;
  readonly isDefault: boolean;
}

/** The built-in models, the default first. */
export function listBuiltinModels(): BuiltinModel[] {
  const dir = builtinModelsDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(".gguf"));
  } catch {
    return [];
  }
  names.sort((a, b) => Number(b === DEFAULT_MODEL_FILE) - Number(a === DEFAULT_MODEL_FILE) || a.localeCompare(b));
  return names.map((name) => ({ name, path: path.join(dir, name), isDefault: name === DEFAULT_MODEL_FILE }));
}

export function defaultModelPath(): string {
  return path.join(builtinModelsDir(), DEFAULT_MODEL_FILE);
}

/** The built-in model called `spec`, with or without `.gguf`, in any letter case. */
export function findBuiltinModel(spec: string): BuiltinModel | undefined {
  return matchByName(listBuiltinModels(), spec);
}

/** Exact file name, then name + `.gguf`, then the same ignoring case. */
export function matchByName<T extends { readonly name: string }>(entries: readonly T[], spec: string): T | undefined {
  const wanted = [spec, `${spec}.gguf`];
  return (
    entries.find((e) => wanted.includes(e.name)) ??
    entries.find((e) => wanted.some((w) => w.toLowerCase() === e.name.toLowerCase()))
  );
}
