/**
 * Downloading one URL into `NAME.part`, resuming what an earlier run left there.
 *
 * A .part is continued with `Range: bytes=N-` only when `NAME.part.json` says it came from
 * the same URL and the 206 answer shows the same remote file (sha256, ETag, size); a 200
 * answer or any disagreement starts over. A connection dropped mid-body is retried (with
 * Range) when that attempt made progress. Cancelling through the signal keeps the .part and
 * throws the engine's `AbortError`.
 * Checking and renaming the finished .part is the caller's job (see pull.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { AbortError } from "../engine/errors.js";
import { checkFreeSpace, isCacheWriteError, writeFailure } from "./cacheFolder.js";
import { StoreError, reasonOf } from "./errors.js";
import { formatBytes } from "../engine/streaming/byteSize.js";
import { contentLength, discardBody, getFollowingRedirects, header, parseContentRange, throwForStatus, type OpenedResponse } from "./http.js";
import { partPathOf } from "./paths.js";
import { discardPart, partSize, readPartMeta, sameRemoteFile, writePartMeta, type RemoteIdentity } from "./sidecars.js";
import { MAGIC_BYTES, checkGgufMagic } from "./verify.js";

/** Retries after a dropped connection, each only if the attempt before it received bytes. */
export const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1000;

export interface DownloadProgress {
  readonly fileName: string;
  /** bytes in the .part so far, resumed ones included */
  readonly nBytesDone: number;
  readonly nBytesTotal: number | undefined;
  /** bytes that were already there when this transfer started */
  readonly nBytesResumed: number;
}

export interface DownloadOptions {
  readonly dispatcher: Dispatcher;
  /** origin that may receive the token (the Hugging Face endpoint) */
  readonly authOrigin?: string;
  readonly token?: string;
  /** adds the HF_TOKEN advice to 401/403 errors */
  readonly isHuggingFace: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly log?: (line: string) => void;
  readonly nRetries?: number;
  /** first retry delay, doubled for each further retry */
  readonly retryDelayMs?: number;
}

export interface DownloadResult {
  readonly nBytes: number;
  /** sha256 the server announced (`x-linked-etag`), if any */
  readonly linkedSha256?: string;
}

type Outcome = { readonly kind: "done"; readonly result: DownloadResult } | { readonly kind: "restart" };

/** Downloads `url` into `partPathOf(modelPath)`; resolves once every byte is there. */
export async function downloadToPart(url: string, modelPath: string, options: DownloadOptions): Promise<DownloadResult> {
  let nRetriesLeft = options.nRetries ?? DEFAULT_RETRIES;
  let retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  for (;;) {
    let progressed = false;
    const onProgress = (progress: DownloadProgress) => {
      progressed = true;
      options.onProgress?.(progress);
    };
    try {
      const outcome = await transferOnce(url, modelPath, { ...options, onProgress });
      if (outcome.kind === "done") return outcome.result;
    } catch (error) {
      if (!(error instanceof StoreError && error.code === "NETWORK" && progressed && nRetriesLeft > 0)) throw error;
      options.log?.(`${error.message}; retrying in ${retryDelayMs / 1000} s`);
      await sleepUnlessAborted(retryDelayMs, modelPath, options.signal);
      nRetriesLeft--;
      retryDelayMs *= 2;
    }
  }
}

/** One request: continue or start the .part, or report that it must start over. */
async function transferOnce(url: string, modelPath: string, options: DownloadOptions): Promise<Outcome> {
  const nBytesHave = resumableBytes(url, modelPath, options.log);
  const saved = readPartMeta(modelPath);
  if (nBytesHave > 0 && saved?.nBytesTotal === nBytesHave) return { kind: "done", result: { nBytes: nBytesHave, linkedSha256: saved.linkedSha256 } };
  const response = await getFollowingRedirects(url, {
    dispatcher: options.dispatcher,
    authOrigin: options.authOrigin,
    token: options.token,
    headers: nBytesHave > 0 ? { range: `bytes=${nBytesHave}-` } : {},
    signal: options.signal,
  });
  const status = response.statusCode;
  if (status === 206 && nBytesHave > 0) return continuePart(response, modelPath, nBytesHave, options);
  if (status === 200 || status === 206) {
    if (nBytesHave > 0) options.log?.(`the server does not resume downloads (it answered ${status} to a Range request); starting ${path.basename(modelPath)} over`);
    return startPart(response, modelPath, options);
  }
  if (status === 416 && nBytesHave > 0) {
    await discardBody(response.body);
    options.log?.(`the server cannot resume ${path.basename(modelPath)} at byte ${nBytesHave} (HTTP 416); starting over`);
    discardPart(modelPath);
    return { kind: "restart" };
  }
  const sentToken = options.token !== undefined && new URL(url).origin === options.authOrigin;
  return throwForStatus(response, options.isHuggingFace, sentToken);
}

/** Bytes of the .part that may be resumed; a .part without metadata, or from another URL, is deleted. */
function resumableBytes(url: string, modelPath: string, log: ((line: string) => void) | undefined): number {
  const nBytes = partSize(modelPath);
  const saved = readPartMeta(modelPath);
  const usable = nBytes > 0 && saved !== undefined && saved.url === url && (saved.nBytesTotal === undefined || nBytes <= saved.nBytesTotal);
  if (usable) return nBytes;
  if (nBytes > 0) log?.(`discarding ${path.basename(partPathOf(modelPath))}: it was not started from ${url}`);
  discardPart(modelPath);
  return 0;
}

/** A 206: appends to the .part if it is the same remote file from the same offset, else starts over. */
async function continuePart(response: OpenedResponse, modelPath: string, nBytesHave: number, options: DownloadOptions): Promise<Outcome> {
  const range = parseContentRange(header(response.headers, "content-range"));
  const observed: RemoteIdentity = { ...identityOf(response), nBytesTotal: range?.nBytesTotal ?? response.linkedNBytes };
  const saved = readPartMeta(modelPath);
  if (range === undefined || range.start !== nBytesHave || saved === undefined || !sameRemoteFile(saved, observed)) {
    await discardBody(response.body);
    options.log?.(`the remote file is not the one ${path.basename(partPathOf(modelPath))} was started from; starting over`);
    discardPart(modelPath);
    return { kind: "restart" };
  }
  options.log?.(`resuming ${path.basename(modelPath)} at ${formatBytes(nBytesHave)}${observed.nBytesTotal !== undefined ? ` of ${formatBytes(observed.nBytesTotal)}` : ""}`);
  const nBytes = await writeBody(response, modelPath, nBytesHave, observed.nBytesTotal, options);
  return { kind: "done", result: { nBytes, linkedSha256: observed.linkedSha256 ?? saved.linkedSha256 } };
}

/** A 200 (or a 206 from byte 0): records what is being downloaded, then writes the .part from the start. */
async function startPart(response: OpenedResponse, modelPath: string, options: DownloadOptions): Promise<Outcome> {
  const range = parseContentRange(header(response.headers, "content-range"));
  if (response.statusCode === 206 && range?.start !== 0) {
    await discardBody(response.body);
    throw new StoreError("HTTP_STATUS", `${response.requestedUrl} answered 206 with an unexpected range (${header(response.headers, "content-range") ?? "none"})`);
  }
  const nBytesTotal = range?.nBytesTotal ?? contentLength(response.headers) ?? response.linkedNBytes;
  const identity: RemoteIdentity = { ...identityOf(response), nBytesTotal };
  try {
    discardPart(modelPath);
    writePartMeta(modelPath, { url: response.requestedUrl, ...identity });
    if (nBytesTotal !== undefined) checkFreeSpace(path.dirname(modelPath), nBytesTotal, path.basename(modelPath));
  } catch (error) {
    await discardBody(response.body);
    throw writeFailure(error, path.dirname(modelPath));
  }
  const nBytes = await writeBody(response, modelPath, 0, nBytesTotal, options);
  return { kind: "done", result: { nBytes, linkedSha256: identity.linkedSha256 } };
}

function identityOf(response: OpenedResponse): RemoteIdentity {
  const etag = header(response.headers, "etag");
  return { ...(etag !== undefined ? { etag } : {}), ...(response.linkedSha256 !== undefined ? { linkedSha256: response.linkedSha256 } : {}) };
}

/** Streams the body onto the end of the .part (which holds `nBytesStart` bytes); returns the final size. */
async function writeBody(response: OpenedResponse, modelPath: string, nBytesStart: number, nBytesTotal: number | undefined, options: DownloadOptions): Promise<number> {
  const partPath = partPathOf(modelPath);
  const fileName = path.basename(modelPath);
  const file = await openPart(partPath, nBytesStart, response);
  let nBytesDone = nBytesStart;
  let head: Buffer | undefined = nBytesStart === 0 ? Buffer.alloc(0) : undefined;
  const contentType = header(response.headers, "content-type");
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= MAGIC_BYTES) checkGgufMagic(head, response.requestedUrl, contentType);
        if (head.length >= MAGIC_BYTES) head = undefined;
      }
      await writeAll(file, chunk);
      nBytesDone += chunk.length;
      options.onProgress?.({ fileName, nBytesDone, nBytesTotal, nBytesResumed: nBytesStart });
    }
    if (head !== undefined) checkGgufMagic(head, response.requestedUrl, contentType);
  } catch (error) {
    throw transferFailure(error, modelPath, nBytesDone, nBytesTotal, options.signal);
  } finally {
    await file.close();
  }
  if (nBytesTotal !== undefined && nBytesDone !== nBytesTotal) {
    throw new StoreError("NETWORK", `download of ${fileName} ended after ${formatBytes(nBytesDone)} of ${formatBytes(nBytesTotal)}`);
  }
  return nBytesDone;
}

async function openPart(partPath: string, nBytesStart: number, response: OpenedResponse): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(partPath, nBytesStart > 0 ? "a" : "w");
  } catch (error) {
    await discardBody(response.body);
    throw writeFailure(error, path.dirname(partPath));
  }
}

async function writeAll(file: fs.promises.FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** The one-line error for a failure while the body streams in. */
function transferFailure(error: unknown, modelPath: string, nBytesDone: number, nBytesTotal: number | undefined, signal: AbortSignal | undefined): Error {
  if (error instanceof StoreError || error instanceof AbortError) return error;
  const fileName = path.basename(modelPath);
  const progress = `${formatBytes(nBytesDone)}${nBytesTotal !== undefined ? ` of ${formatBytes(nBytesTotal)}` : ""}`;
  if (signal?.aborted) return abortedError(modelPath, progress);
  if (isCacheWriteError(error)) return writeFailure(error, path.dirname(modelPath));
  return new StoreError("NETWORK", `download of ${fileName} interrupted after ${progress}: ${reasonOf(error)}`, { cause: error });
}

function abortedError(modelPath: string, progress: string): AbortError {
  const fileName = path.basename(modelPath);
  return new AbortError(`download of ${fileName} cancelled after ${progress}; ${fileName}.part is kept in ${path.dirname(modelPath)} and the same pull resumes it`);
}

async function sleepUnlessAborted(delayMs: number, modelPath: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw abortedError(modelPath, `${formatBytes(partSize(modelPath))}`);
    throw error;
  }
}
