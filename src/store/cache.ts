/**
 * The download cache: what it holds (complete models, interrupted downloads), finding a
 * model by file name or by the source it was pulled from, and removing one.
 */
import fs from "node:fs";
import path from "node:path";
import { findBuiltinModel, matchByName } from "./builtin.js";
import { writeFailure } from "./cacheFolder.js";
import { StoreError } from "./errors.js";
import { modelMetaPathOf, modelsDirFromEnv, partMetaPathOf, partPathOf } from "./paths.js";
import { readModelMeta, readPartMeta } from "./sidecars.js";

export interface CachedFile {
  /** file name, e.g. qwen2.5-0.5b-instruct-q4_k_m.gguf */
  readonly name: string;
  readonly path: string;
  readonly nBytes: number;
  /** false for an interrupted download (only `NAME.part` exists) */
  readonly complete: boolean;
  /** the source it was pulled from (`hf:…` or a URL), when recorded */
  readonly source?: string;
  /** the full size of an interrupted download, when known */
  readonly nBytesTotal?: number;
}

export interface RemovedModel {
  readonly name: string;
  /** bytes freed (the model and its .part) */
  readonly nBytes: number;
  readonly dir: string;
}

/** The cache's complete models and interrupted downloads, by name. A missing folder is empty. */
export function listCachedFiles(modelsDir: string = modelsDirFromEnv()): CachedFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(modelsDir);
  } catch {
    return [];
  }
  const files: CachedFile[] = [];
  for (const name of names.filter((n) => n.endsWith(".gguf")).sort()) {
    const filePath = path.join(modelsDir, name);
    const nBytes = regularFileSize(filePath);
    if (nBytes !== undefined) files.push({ name, path: filePath, nBytes, complete: true, ...optional("source", readModelMeta(filePath)?.source) });
  }
  for (const partName of names.filter((n) => n.endsWith(".gguf.part")).sort()) {
    const filePath = path.join(modelsDir, partName.slice(0, -".part".length));
    const nBytes = regularFileSize(partPathOf(filePath));
    if (nBytes === undefined || files.some((f) => f.path === filePath)) continue;
    const meta = readPartMeta(filePath);
    files.push({ name: path.basename(filePath), path: filePath, nBytes, complete: false, ...optional("source", meta?.url), ...optional("nBytesTotal", meta?.nBytesTotal) });
  }
  return files;
}

/** The complete cached model called `spec` (with or without `.gguf`). */
export function findCachedModel(spec: string, modelsDir: string = modelsDirFromEnv()): CachedFile | undefined {
  return matchByName(listCachedFiles(modelsDir).filter((f) => f.complete), spec);
}

/** The complete cached model pulled from `sourceText` (as typed) or from `url`. */
export function findCachedBySource(sourceText: string, url: string | undefined, modelsDir: string = modelsDirFromEnv()): CachedFile | undefined {
  return listCachedFiles(modelsDir).find((f) => {
    if (!f.complete) return false;
    const meta = readModelMeta(f.path);
    return meta !== undefined && (meta.source === sourceText || (url !== undefined && meta.url === url));
  });
}

/**
 * Deletes a cached model (or an interrupted download) with its sidecar files. Built-in
 * models cannot be removed; an unknown name fails with the list of cached names.
 */
export function removeCachedModel(spec: string, options: { readonly env?: NodeJS.ProcessEnv } = {}): RemovedModel {
  const modelsDir = modelsDirFromEnv(options.env);
  const entry = matchByName(listCachedFiles(modelsDir), spec);
  if (entry === undefined) {
    const builtin = findBuiltinModel(spec);
    if (builtin !== undefined) throw new StoreError("BUILTIN_MODEL", `${builtin.name} is a built-in model (it ships with layerstream) and cannot be removed`);
    throw new StoreError("UNKNOWN_MODEL", `no cached model named "${spec}"; ${describeCache(modelsDir)}`);
  }
  let nBytes = 0;
  try {
    for (const filePath of [entry.path, partPathOf(entry.path)]) nBytes += regularFileSize(filePath) ?? 0;
    for (const filePath of [entry.path, partPathOf(entry.path), partMetaPathOf(entry.path), modelMetaPathOf(entry.path)]) fs.rmSync(filePath, { force: true });
  } catch (error) {
    throw writeFailure(error, modelsDir);
  }
  return { name: entry.name, nBytes, dir: modelsDir };
}

/** "cached: a.gguf, b.gguf (in DIR)" or "the model cache (DIR) is empty". */
export function describeCache(modelsDir: string): string {
  const names = listCachedFiles(modelsDir).map((f) => (f.complete ? f.name : `${f.name} (partial)`));
  return names.length > 0 ? `cached: ${names.join(", ")} (in ${modelsDir})` : `the model cache (${modelsDir}) is empty`;
}

function regularFileSize(filePath: string): number | undefined {
  try {
    const stats = fs.statSync(filePath);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
