/**
 * Reading only a GGUF file's header (metadata and tensor infos) with ordinary reads, for
 * files too large for one memory mapping (Node 20 Buffers stop at 4 GiB) and for the
 * streaming engine, which reads tensor data itself. The returned file's `bytes` holds the
 * header only; tensor data is read with `readTensorSync` or by a layer source.
 */
import fs from "node:fs";
import { GgufFormatError } from "./errors.js";
import { parseGguf } from "./parse.js";
import { openRegularFile, type FileStamp } from "./modelFile.js";
import type { GgufFile, GgufTensorInfo } from "./types.js";

/** First read; doubled while the header does not fit. */
const FIRST_READ_BYTES = 4 << 20;
/** Headers of real models are a few MiB (a 150k-token vocabulary); past this the file is not a model. */
const MAX_HEADER_BYTES = 512 << 20;
/** Errors that may only mean "the header continues past what was read". */
const NEEDS_MORE_BYTES = new Set(["TRUNCATED", "STRING_TOO_LONG", "COUNT_TOO_LARGE"]);

export interface GgufHeaderFile extends GgufFile, Disposable {
  readonly path: string;
  /** an open read-only descriptor, for tensor reads; closed by dispose() */
  readonly fd: number;
  /** the file when it was opened (checkUnchanged compares against it) */
  readonly stamp: FileStamp;
  dispose(): void;
}

export function openGgufHeader(path: string, { firstReadBytes = FIRST_READ_BYTES } = {}): GgufHeaderFile {
  const { fd, stamp, size: fileBytes } = openRegularFile(path);
  try {
    if (fileBytes === 0) throw new GgufFormatError("TRUNCATED", `${path} is empty (0 bytes); a GGUF header needs at least 24`, { path, offset: 0 });
    let nRead = Math.min(fileBytes, firstReadBytes);
    for (;;) {
      const prefix = Buffer.allocUnsafe(nRead);
      readFully(fd, prefix, 0, nRead, 0, path);
      try {
        const file = parseGguf(prefix, { fileBytes });
        return { ...file, bytes: prefix.subarray(0, file.dataOffset), path, fd, stamp, dispose: once(() => fs.closeSync(fd)), [Symbol.dispose]() { this.dispose(); } };
      } catch (error) {
        const canGrow = nRead < fileBytes && nRead < MAX_HEADER_BYTES;
        if (!(error instanceof GgufFormatError) || !NEEDS_MORE_BYTES.has(error.code) || !canGrow) {
          throw error instanceof GgufFormatError ? new GgufFormatError(error.code, `${path}: ${error.message}`, { offset: error.offset, path, cause: error }) : error;
        }
        nRead = Math.min(fileBytes, MAX_HEADER_BYTES, nRead * 4);
      }
    }
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** Reads a tensor's bytes into a new buffer (synchronously). */
export function readTensorSync(file: GgufHeaderFile, info: GgufTensorInfo): Uint8Array {
  const out = new Uint8Array(info.nBytes);
  readFully(file.fd, out, 0, info.nBytes, info.fileOffset, file.path);
  return out;
}

/** pread until `length` bytes are in, or fail with a one-line error. */
export function readFully(fd: number, into: Uint8Array, offset: number, length: number, position: number, path: string): void {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, into, offset + done, Math.min(length - done, 1 << 30), position + done);
    if (n === 0) throw new GgufFormatError("TRUNCATED", `${path}: unexpected end of file at offset ${position + done}`, { path, offset: position + done });
    done += n;
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
