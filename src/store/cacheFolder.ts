/**
 * The cache folder on disk: created on first use, and the errors that writing into it
 * can raise turned into one-line `StoreError`s that name the folder.
 */
import fs from "node:fs";
import { StoreError, reasonOf } from "./errors.js";
import { formatBytes } from "../engine/streaming/byteSize.js";

const NOT_WRITABLE_CODES = new Set(["EACCES", "EPERM", "EROFS", "ENOTDIR", "EEXIST", "ENOENT", "EISDIR"]);
const FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** Creates the folder (and its parents) if needed; a folder that cannot be created or written fails here. */
export function ensureCacheDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    throw writeFailure(error, dir);
  }
}

/** The error to throw for a failed write in the cache folder `dir`; `StoreError`s pass through. */
export function writeFailure(error: unknown, dir: string): Error {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (FULL_CODES.has(code)) return new StoreError("DISK_FULL", `the disk holding the model cache folder ${dir} is full (${code})`, { cause: error });
  if (NOT_WRITABLE_CODES.has(code)) {
    return new StoreError(
      "CACHE_NOT_WRITABLE",
      `cannot write to the model cache folder ${dir}: ${reasonOf(error)}; set LAYERSTREAM_MODELS (or XDG_CACHE_HOME) to a writable folder`,
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** True for the file-system errors `writeFailure` turns into CACHE_NOT_WRITABLE or DISK_FULL. */
export function isCacheWriteError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  return FULL_CODES.has(code) || NOT_WRITABLE_CODES.has(code);
}

/** Fails early when the folder's disk has less free space than the bytes still to download. */
export function checkFreeSpace(dir: string, nBytesNeeded: number, fileName: string): void {
  let nBytesFree: number;
  try {
    const stats = fs.statfsSync(dir);
    nBytesFree = Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return; // cannot tell: let the write fail if it must
  }
  if (nBytesNeeded > nBytesFree) {
    throw new StoreError("DISK_FULL", `${fileName} needs ${formatBytes(nBytesNeeded)} more but only ${formatBytes(nBytesFree)} is free in ${dir}`);
  }
}
