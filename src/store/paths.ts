/**
 * Where models live: the package's built-in `models/` folder, the download cache
 * (`$LAYERSTREAM_MODELS`, else `$XDG_CACHE_HOME/layerstream/models`, else
 * `~/.cache/layerstream/models`), and the names of the files kept beside a download.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The default model of `generate` when no --model is given; ships in `models/`. */
export const DEFAULT_MODEL_FILE = "TinyStories-656K-Q8_0.gguf";
/** Hugging Face, as huggingface_hub; `HF_ENDPOINT` overrides it (mirrors, tests). */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

/**
 * The package root: this file runs as `src/store/paths.ts` (tsx, vitest) and as
 * `dist/store/paths.js` (the built CLI), both two levels below the root.
 */
export function packageRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

export function builtinModelsDir(): string {
  return path.join(packageRoot(), "models");
}

/** The cache folder for downloaded models (not created here). */
export function modelsDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAYERSTREAM_MODELS) return path.resolve(env.LAYERSTREAM_MODELS);
  const cacheHome = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "layerstream", "models");
}

/** `HF_ENDPOINT` without a trailing slash, or https://huggingface.co. */
export function hfEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
}

/** `HF_TOKEN` (as huggingface_hub and llama.cpp), if set and not blank. */
export function hfTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.HF_TOKEN?.trim();
  return token ? token : undefined;
}

let cachedUserAgent: string | undefined;

/** `layerstream/0.1.0`, sent as the User-Agent. */
export function userAgent(): string {
  if (cachedUserAgent !== undefined) return cachedUserAgent;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version?: string };
    cachedUserAgent = `layerstream/${pkg.version ?? "0"}`;
  } catch {
    cachedUserAgent = "layerstream";
  }
  return cachedUserAgent;
}

/** The download in progress: `NAME.part`, renamed to NAME once complete and checked. */
export function partPathOf(modelPath: string): string {
  return `${modelPath}.part`;
}

/** What the .part holds (URL, ETag, size), to resume only the same file. */
export function partMetaPathOf(modelPath: string): string {
  return `${modelPath}.part.json`;
}

/** Where a cached model came from (source, URL, sha256), written once it is complete. */
export function modelMetaPathOf(modelPath: string): string {
  return `${modelPath}.json`;
}
