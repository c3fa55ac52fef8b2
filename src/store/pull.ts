/**
 * `pullModel(SOURCE)`: resolve a source to one URL and file name, download it into the cache
 * under a temporary name (resuming an earlier attempt), check it (sha256 when known, GGUF
 * header), and only then give it its final name. Nothing half-downloaded or wrong ever sits
 * under the final name.
 */
import fs from "node:fs";
import path from "node:path";
import type { Dispatcher } from "undici";
import { AbortError } from "../engine/errors.js";
import { ensureCacheDir, writeFailure } from "./cacheFolder.js";
import { downloadToPart, type DownloadProgress } from "./download.js";
import { StoreError } from "./errors.js";
import { formatBytes } from "../engine/streaming/byteSize.js";
import { listRepoFiles, pickGgufFile } from "./hfRepo.js";
import { createDispatcher } from "./http.js";
import { readModelInfo, type ModelInfo } from "./modelInfo.js";
import { hfEndpointFromEnv, hfTokenFromEnv, modelsDirFromEnv, partMetaPathOf, partPathOf } from "./paths.js";
import { checkModelFileName, hfResolveUrl, parseSource, type ModelSource } from "./source.js";
import { discardPart, readModelMeta, writeModelMeta } from "./sidecars.js";
import { checkGgufFile, checkSha256, sha256OfFile } from "./verify.js";

export interface PullOptions {
  /** cancels the download (throws the engine's AbortError); the .part is kept for the next pull to resume */
  readonly signal?: AbortSignal;
  /** expected sha256 (hex); else the one Hugging Face announces, if any */
  readonly sha256?: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** one line per step (resolving, resuming, verifying, done) */
  readonly log?: (line: string) => void;
  /** where HF_ENDPOINT, HF_TOKEN, LAYERSTREAM_MODELS and XDG_CACHE_HOME are read (default process.env) */
  readonly env?: NodeJS.ProcessEnv;
  /** retries after a dropped connection (default 3) */
  readonly nRetries?: number;
  readonly retryDelayMs?: number;
  /** HTTP dispatcher (default: an EnvHttpProxyAgent, closed at the end) */
  readonly dispatcher?: Dispatcher;
}

export interface PullResult {
  readonly path: string;
  /** file name in the cache */
  readonly name: string;
  readonly url: string;
  /** "already-cached": the file was there; nothing was downloaded */
  readonly status: "downloaded" | "already-cached";
  readonly nBytes: number;
  /** the sha256 the file was checked against, if one was known */
  readonly sha256?: string;
  readonly info: ModelInfo;
}

interface PullContext {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly modelsDir: string;
  readonly dispatcher: Dispatcher;
  readonly options: PullOptions;
}

interface Resolved {
  readonly url: string;
  readonly fileName: string;
}

export async function pullModel(sourceText: string, options: PullOptions = {}): Promise<PullResult> {
  const expectedSha256 = options.sha256 === undefined ? undefined : checkedSha256(options.sha256);
  const source = parseSource(sourceText);
  const env = options.env ?? process.env;
  const dispatcher = options.dispatcher ?? createDispatcher();
  const context: PullContext = { endpoint: hfEndpointFromEnv(env), token: hfTokenFromEnv(env), modelsDir: modelsDirFromEnv(env), dispatcher, options };
  try {
    const resolved = await resolveSource(source, context);
    const modelPath = path.join(context.modelsDir, resolved.fileName);
    if (fs.existsSync(modelPath)) return await alreadyCached(modelPath, resolved, expectedSha256, context);
    ensureCacheDir(context.modelsDir);
    return await downloadAndCheck(source, resolved, modelPath, expectedSha256, context);
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof AbortError)) throw new AbortError(`pull of ${sourceText} cancelled`);
    throw error;
  } finally {
    if (options.dispatcher === undefined) await dispatcher.destroy().catch(() => undefined);
  }
}

/** The URL to download and the name to cache it under (lists the repository for `hf:owner/repo:QUANT`). */
export async function resolveSource(source: ModelSource, context: Pick<PullContext, "endpoint" | "token" | "dispatcher" | "options">): Promise<Resolved> {
  if (source.kind === "url") return { url: source.url, fileName: source.fileName };
  if (source.kind === "hf-file") return { url: hfResolveUrl(context.endpoint, source.repoId, source.filePath), fileName: source.fileName };
  const { endpoint, token, dispatcher } = context;
  const files = await listRepoFiles(source.repoId, { endpoint, token, dispatcher, signal: context.options.signal });
  const filePath = pickGgufFile(files, source.quant, source.repoId);
  context.options.log?.(`${source.text} → ${filePath}`);
  return { url: hfResolveUrl(endpoint, source.repoId, filePath), fileName: checkModelFileName(path.basename(filePath), source.text) };
}

async function alreadyCached(modelPath: string, resolved: Resolved, expectedSha256: string | undefined, context: PullContext): Promise<PullResult> {
  const meta = readModelMeta(modelPath);
  if (meta !== undefined && meta.url !== resolved.url) {
    throw new StoreError("NAME_TAKEN", `the model cache already holds ${resolved.fileName}, downloaded from ${meta.url}; remove it with \`layerstream rm ${resolved.fileName}\` to pull ${resolved.url}`);
  }
  const nBytes = fs.statSync(modelPath).size;
  if (expectedSha256 !== undefined) {
    const actual = meta?.sha256 ?? (await sha256OfFile(modelPath, context.options.signal));
    if (actual !== expectedSha256) {
      throw new StoreError("SHA256_MISMATCH", `the cached ${resolved.fileName} has sha256 ${actual}, expected ${expectedSha256}; remove it with \`layerstream rm ${resolved.fileName}\` and pull again`);
    }
  }
  context.options.log?.(`${resolved.fileName} is already in the cache (${context.modelsDir}); nothing to download`);
  return { path: modelPath, name: resolved.fileName, url: resolved.url, status: "already-cached", nBytes, ...(meta?.sha256 !== undefined ? { sha256: meta.sha256 } : {}), info: infoOrEmpty(modelPath) };
}

async function downloadAndCheck(source: ModelSource, resolved: Resolved, modelPath: string, expectedSha256: string | undefined, context: PullContext): Promise<PullResult> {
  const { options } = context;
  const isHuggingFace = source.kind !== "url" || new URL(resolved.url).origin === new URL(context.endpoint).origin;
  options.log?.(`downloading ${resolved.url} into ${context.modelsDir}`);
  try {
    const download = await downloadToPart(resolved.url, modelPath, {
      dispatcher: context.dispatcher,
      authOrigin: new URL(context.endpoint).origin,
      token: context.token,
      isHuggingFace,
      signal: options.signal,
      onProgress: options.onProgress,
      log: options.log,
      nRetries: options.nRetries,
      retryDelayMs: options.retryDelayMs,
    });
    const sha256 = expectedSha256 ?? download.linkedSha256;
    if (sha256 !== undefined) {
      options.log?.(`checking the sha256 of ${resolved.fileName} (${formatBytes(download.nBytes)})`);
      await checkSha256(partPathOf(modelPath), sha256, resolved.url, options.signal);
    }
    const info = checkGgufFile(partPathOf(modelPath), resolved.url);
    commit(modelPath, { source: source.text, url: resolved.url, ...(sha256 !== undefined ? { sha256 } : {}), nBytes: download.nBytes, downloadedAt: new Date().toISOString() });
    options.log?.(`saved ${resolved.fileName} (${formatBytes(download.nBytes)}${describeInfo(info)}) in ${context.modelsDir}`);
    return { path: modelPath, name: resolved.fileName, url: resolved.url, status: "downloaded", nBytes: download.nBytes, ...(sha256 !== undefined ? { sha256 } : {}), info };
  } catch (error) {
    if (error instanceof StoreError && (error.code === "SHA256_MISMATCH" || error.code === "NOT_GGUF")) discardPart(modelPath);
    throw error;
  }
}

/** Gives the checked .part its final name and records where it came from. */
function commit(modelPath: string, meta: Parameters<typeof writeModelMeta>[1]): void {
  try {
    writeModelMeta(modelPath, meta);
    fs.renameSync(partPathOf(modelPath), modelPath);
    fs.rmSync(partMetaPathOf(modelPath), { force: true });
  } catch (error) {
    throw writeFailure(error, path.dirname(modelPath));
  }
}

function checkedSha256(text: string): string {
  const hex = text.trim().toLowerCase().replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new StoreError("BAD_SHA256", `--sha256 expects 64 hex digits, got "${text}"`);
  return hex;
}

function infoOrEmpty(modelPath: string): ModelInfo {
  try {
    return readModelInfo(modelPath);
  } catch {
    return {};
  }
}

function describeInfo(info: ModelInfo): string {
  return [info.architecture, info.quant].filter((s) => s !== undefined).map((s) => `, ${s}`).join("");
}
