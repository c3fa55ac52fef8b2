/**
 * The full sha256 of a model file, computed once (`layerstream verify MODEL`, or `--verify full`)
 * and cached by what identifies the file's bytes — device, inode, size and mtime — under
 * `$XDG_CACHE_HOME/layerstream/verify/` (default `~/.cache/layerstream/verify/`). A file that is
 * modified gets a new mtime and so a new key: a cached hash never describes other bytes.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AbortError } from "../engine/errors.js";
import { describeChange, ModelFileChangedError, openRegularFile, stampOf, type FileStamp } from "../engine/gguf/modelFile.js";

export interface FullHash {
  readonly sha256: string;
  /** read from the cache (true) or computed now */
  readonly cached: boolean;
}

export interface FullHashOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** bytes hashed so far, and the file's size */
  readonly onProgress?: (nBytesDone: number, nBytesTotal: number) => void;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CHUNK_BYTES = 4 << 20;

/** The folder of cached full hashes (not created here). */
export function verifyCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "layerstream", "verify");
}

/** The cached full sha256 of the file at `filePath` as it is now, or undefined (never computes; cheap). */
export function cachedFullSha256(filePath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let stamp: FileStamp;
  try {
    stamp = stampOf(fs.statSync(filePath, { bigint: true }));
  } catch {
    return undefined;
  }
  return readCacheEntry(stamp, env);
}

/** The cached full sha256, or one computed now (and cached). */
export async function fullSha256(filePath: string, options: FullHashOptions = {}): Promise<FullHash> {
  const cached = cachedFullSha256(filePath, options.env);
  if (cached !== undefined) return { sha256: cached, cached: true };
  const { sha256, stamp } = await hashFile(filePath, options);
  writeCacheEntry(stamp, sha256, filePath, options.env);
  return { sha256, cached: false };
}

/** sha256 of the whole file, read in 4 MiB chunks; the file must not change while it is read. */
async function hashFile(filePath: string, options: FullHashOptions): Promise<{ sha256: string; stamp: FileStamp }> {
  const { fd, stamp, size } = openRegularFile(filePath);
  try {
    const hash = createHash("sha256");
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    for (let done = 0; done < size; ) {
      if (options.signal?.aborted) throw new AbortError(`hashing ${filePath} was aborted`);
      const bytesRead = await readAt(fd, chunk, Math.min(CHUNK_BYTES, size - done), done);
      if (bytesRead === 0) throw new ModelFileChangedError(filePath, `it ended at byte ${done} of ${size} while being hashed`);
      hash.update(chunk.subarray(0, bytesRead));
      done += bytesRead;
      options.onProgress?.(done, size);
    }
    const change = describeChange(stamp, stampOf(fs.fstatSync(fd, { bigint: true })));
    if (change !== undefined) throw new ModelFileChangedError(filePath, `${change}, while being hashed`);
    return { sha256: hash.digest("hex"), stamp };
  } finally {
    fs.closeSync(fd);
  }
}

/** pread on libuv's thread pool (the event loop keeps running while a large file is hashed). */
function readAt(fd: number, into: Buffer, nBytes: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, into, 0, nBytes, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

function cacheEntryPath(stamp: FileStamp, env: NodeJS.ProcessEnv | undefined): string {
  return path.join(verifyCacheDir(env), `${stamp.dev}-${stamp.ino}-${stamp.size}-${stamp.mtimeNs}.json`);
}

function readCacheEntry(stamp: FileStamp, env: NodeJS.ProcessEnv | undefined): string | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(cacheEntryPath(stamp, env), "utf8")) as { sha256?: unknown; size?: unknown };
    return typeof entry.sha256 === "string" && SHA256_HEX.test(entry.sha256) && entry.size === String(stamp.size) ? entry.sha256 : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: a cache folder that cannot be written only means the hash is computed again next time. */
function writeCacheEntry(stamp: FileStamp, sha256: string, filePath: string, env: NodeJS.ProcessEnv | undefined): void {
  const target = cacheEntryPath(stamp, env);
  const entry = { sha256, size: String(stamp.size), path: path.resolve(filePath), computedAt: new Date().toISOString() };
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(entry, null, 2) + "\n");
    fs.renameSync(temporary, target);
  } catch {
    // not cached
  }
}
