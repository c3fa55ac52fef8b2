/**
 * Opening a GGUF file from disk: memory-mapped read-only, then parsed in place.
 *
 * The mapping lives as long as the Buffer mmap-io returns (it unmaps when the Buffer is
 * garbage-collected); `dispose()` drops this object's reference and makes it unusable.
 * Views taken earlier with `tensorData` stay valid (they keep the mapping alive).
 *
 * mmap-io is an optional dependency (it compiles C++ at install, and a machine without a
 * compiler goes on without it): when it is missing, the file is read into memory instead,
 * and `mmapAvailable()` says so, so callers can prefer reading tensors as they need them.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import { constants as bufferConstants } from "node:buffer";
import type mmapModule from "@riaskov/mmap-io";
import { GgufFormatError } from "./errors.js";
import { parseGguf } from "./parse.js";
import { openRegularFile, type FileStamp } from "./modelFile.js";
import type { GgufFile, GgufMetadataEntry, GgufTensorInfo } from "./types.js";

type MmapIo = (typeof mmapModule)["default"];

let mmapLoaded: MmapIo | null | undefined;

/**
 * mmap-io, or null when it is not installed or does not load. It is CommonJS: `module.exports`
 * is the API, which its typings declare as `exports.default`.
 */
function loadMmap(): MmapIo | null {
  if (mmapLoaded !== undefined) return mmapLoaded;
  try {
    const exported = createRequire(import.meta.url)("@riaskov/mmap-io") as MmapIo & { default?: MmapIo };
    mmapLoaded = typeof exported.map === "function" ? exported : (exported.default ?? null);
  } catch {
    mmapLoaded = null;
  }
  return mmapLoaded;
}

/** Whether files can be memory-mapped here (the optional mmap-io loads). */
export function mmapAvailable(): boolean {
  return loadMmap() !== null;
}

export interface MappedGguf extends GgufFile, Disposable {
  readonly path: string;
  /** the file when it was mapped */
  readonly stamp: FileStamp;
  readonly disposed: boolean;
  /** Idempotent. Afterwards every property access throws DISPOSED. */
  dispose(): void;
}

/** Memory-maps `path` read-only and parses it. Throws GgufFormatError (FILE_NOT_FOUND, IO, TRUNCATED, …). */
export function openGguf(path: string): MappedGguf {
  const { bytes, stamp } = mapReadOnly(path);
  try {
    return new MappedGgufFile(path, parseGguf(bytes), stamp);
  } catch (error) {
    if (error instanceof GgufFormatError && error.path === undefined) {
      throw new GgufFormatError(error.code, `${path}: ${error.message}`, { offset: error.offset, path, cause: error });
    }
    throw error;
  }
}

function mapReadOnly(path: string): { bytes: Uint8Array; stamp: FileStamp } {
  const { fd, stamp, size } = openRegularFile(path);
  try {
    if (size === 0) {
      throw new GgufFormatError("TRUNCATED", `${path} is empty (0 bytes); a GGUF header needs at least 24`, { path, offset: 0 });
    }
    if (size > bufferConstants.MAX_LENGTH) {
      throw new GgufFormatError("IO", `${path} is ${size} bytes; a single mapping holds at most ${bufferConstants.MAX_LENGTH} bytes`, { path });
    }
    const mmap = loadMmap();
    if (!mmap) return { bytes: readWhole(fd, size, path), stamp };
    let buffer: Buffer;
    try {
      buffer = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0);
    } catch (error) {
      throw new GgufFormatError("IO", `cannot memory-map ${path}: ${(error as Error).message}`, { path, cause: error });
    }
    return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), stamp };
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole file in memory, for when mmap-io is not there. */
function readWhole(fd: number, nBytes: number, path: string): Uint8Array {
  const bytes = new Uint8Array(nBytes);
  let done = 0;
  while (done < nBytes) {
    const n = fs.readSync(fd, bytes, done, Math.min(nBytes - done, 1 << 30), done);
    if (n === 0) throw new GgufFormatError("TRUNCATED", `${path}: unexpected end of file at offset ${done}`, { path, offset: done });
    done += n;
  }
  return bytes;
}

class MappedGgufFile implements MappedGguf {
  readonly path: string;
  readonly stamp: FileStamp;
  #file: GgufFile | undefined;

  constructor(path: string, file: GgufFile, stamp: FileStamp) {
    this.path = path;
    this.#file = file;
    this.stamp = stamp;
  }

  get disposed(): boolean {
    return this.#file === undefined;
  }

  dispose(): void {
    this.#file = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get version(): 2 | 3 {
    return this.live().version;
  }
  get alignment(): number {
    return this.live().alignment;
  }
  get metadata(): ReadonlyMap<string, GgufMetadataEntry> {
    return this.live().metadata;
  }
  get tensors(): readonly GgufTensorInfo[] {
    return this.live().tensors;
  }
  get tensorsByName(): ReadonlyMap<string, GgufTensorInfo> {
    return this.live().tensorsByName;
  }
  get dataOffset(): number {
    return this.live().dataOffset;
  }
  get fileBytes(): number {
    return this.live().fileBytes;
  }
  get bytes(): Uint8Array {
    return this.live().bytes;
  }

  private live(): GgufFile {
    if (this.#file === undefined) throw new GgufFormatError("DISPOSED", `${this.path} was disposed`, { path: this.path });
    return this.#file;
  }
}
