/**
 * `resolveModel(--model)`: turn what a user gives as a model into a file on disk — nothing
 * (the built-in default), a path, a built-in or cached model's name, or a source to pull
 * (as `ollama run` pulls a model it does not have).
 */
import fs from "node:fs";
import path from "node:path";
import { defaultModelPath, findBuiltinModel, listBuiltinModels } from "./builtin.js";
import { findCachedBySource, findCachedModel, listCachedFiles } from "./cache.js";
import type { DownloadProgress } from "./download.js";
import { StoreError } from "./errors.js";
import { fileKind } from "../engine/gguf/modelFile.js";
import { DEFAULT_MODEL_FILE, hfEndpointFromEnv, modelsDirFromEnv } from "./paths.js";
import { pullModel } from "./pull.js";
import { hfResolveUrl, looksLikeSource, parseSource } from "./source.js";

export type ResolvedModelSource = "default" | "path" | "builtin" | "cache" | "pulled";

export interface ResolvedModel {
  readonly path: string;
  readonly source: ResolvedModelSource;
  /** file name (built-in and cached models) or the path's base name */
  readonly name: string;
}

export interface ResolveModelOptions {
  /** cancels a pull (throws AbortError); its .part is kept for resuming */
  readonly signal?: AbortSignal;
  /** called as a source is pulled (bytes so far, the file's size when known) */
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly log?: (line: string) => void;
  /** where the store's variables are read (default process.env) */
  readonly env?: NodeJS.ProcessEnv;
}

export async function resolveModel(spec: string | undefined, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  if (spec === undefined) return { path: defaultModelPath(), source: "default", name: DEFAULT_MODEL_FILE };
  const modelsDir = modelsDirFromEnv(options.env);
  if (isFile(spec)) return { path: path.resolve(spec), source: "path", name: path.basename(spec) };
  const builtin = findBuiltinModel(spec);
  if (builtin !== undefined) return { path: builtin.path, source: "builtin", name: builtin.name };
  const cached = findCachedModel(spec, modelsDir);
  if (cached !== undefined) return { path: cached.path, source: "cache", name: cached.name };
  if (looksLikeSource(spec)) return resolveSourceSpec(spec, modelsDir, options);
  if (/[\\/]/.test(spec) || /\.gguf$/i.test(spec)) {
    const absolute = path.resolve(spec);
    const stats = fs.statSync(absolute, { throwIfNoEntry: false });
    if (stats) throw new StoreError("NOT_A_FILE", `model file ${absolute} is ${fileKind(stats)}, not a regular file`);
    throw new StoreError("MODEL_FILE_NOT_FOUND", `model file not found: ${absolute}`);
  }
  throw unknownModel(spec, modelsDir);
}

/** A source already pulled resolves to the cached file without the network; otherwise it is pulled now. */
async function resolveSourceSpec(spec: string, modelsDir: string, options: ResolveModelOptions): Promise<ResolvedModel> {
  const source = parseSource(spec);
  const url = source.kind === "url" ? source.url : source.kind === "hf-file" ? hfResolveUrl(hfEndpointFromEnv(options.env), source.repoId, source.filePath) : undefined;
  const cached = findCachedBySource(source.text, url, modelsDir);
  if (cached !== undefined) return { path: cached.path, source: "cache", name: cached.name };
  const pulled = await pullModel(spec, { signal: options.signal, onProgress: options.onProgress, log: options.log, env: options.env });
  return { path: pulled.path, source: pulled.status === "already-cached" ? "cache" : "pulled", name: pulled.name };
}

function unknownModel(spec: string, modelsDir: string): StoreError {
  const cached = listCachedFiles(modelsDir).filter((f) => f.complete).map((f) => f.name);
  const builtin = listBuiltinModels().map((m) => m.name);
  return new StoreError(
    "UNKNOWN_MODEL",
    `unknown model "${spec}": not a file, a cached model or a built-in one (cached: ${cached.length > 0 ? cached.join(", ") : "none"}; built-in: ${builtin.join(", ")}); ` +
      "give a path to a .gguf file or a source such as hf:owner/repo:Q4_K_M or an https:// URL",
  );
}

function isFile(spec: string): boolean {
  try {
    return fs.statSync(spec).isFile();
  } catch {
    return false;
  }
}
