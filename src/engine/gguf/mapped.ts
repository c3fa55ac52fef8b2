/**
 * Opening a GGUF file from disk: memory-mapped read-only, then parsed in place.
 *
 * The mapping lives as long as the Buffer mmap-io returns (it unmaps when the Buffer is
 * garbage-collected); `dispose()` drops this object's reference and makes it unusable.
 * Views taken earlier with `tensorData` stay valid (they keep the mapping alive).
 */
import fs from "node:fs";
import { constants as bufferConstants } from "node:buffer";
import mmapModule from "@riaskov/mmap-io";
import { GgufFormatError } from "./errors.js";
import { parseGguf } from "./parse.js";
import type { GgufFile, GgufMetadataEntry, GgufTensorInfo } from "./types.js";

/**
 * mmap-io is CommonJS: at run time the default import is `module.exports`, which is the API;
 * its typings declare the API as `exports.default`, so TypeScript sees one level more.
 */
type MmapIo = (typeof mmapModule)["default"];
const mmapExports = mmapModule as unknown as MmapIo & { default?: MmapIo };
const mmap: MmapIo = typeof mmapExports.map === "function" ? mmapExports : mmapExports.default!;

export interface MappedGguf extends GgufFile, Disposable {
  readonly path: string;
  readonly disposed: boolean;
  /** Idempotent. Afterwards every property access throws DISPOSED. */
  dispose(): void;
}

/** Memory-maps `path` read-only and parses it. Throws GgufFormatError (FILE_NOT_FOUND, IO, TRUNCATED, …). */
export function openGguf(path: string): MappedGguf {
  const bytes = mapReadOnly(path);
  try {
    return new MappedGgufFile(path, parseGguf(bytes));
  } catch (error) {
    if (error instanceof GgufFormatError && error.path === undefined) {
      throw new GgufFormatError(error.code, `${path}: ${error.message}`, { offset: error.offset, path, cause: error });
    }
    throw error;
  }
}

function mapReadOnly(path: string): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new GgufFormatError("FILE_NOT_FOUND", `GGUF file not found: ${path}`, { path, cause: error });
    throw new GgufFormatError("IO", `cannot open ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new GgufFormatError("IO", `${path} is not a regular file`, { path });
    if (stat.size === 0) {
      throw new GgufFormatError("TRUNCATED", `${path} is empty (0 bytes); a GGUF header needs at least 24`, { path, offset: 0 });
    }
    if (stat.size > bufferConstants.MAX_LENGTH) {
      throw new GgufFormatError(
        "IO",
        `${path} is ${stat.size} bytes; a single mapping holds at most ${bufferConstants.MAX_LENGTH} bytes`,
        { path },
      );
    }
    let buffer: Buffer;
    try {
      buffer = mmap.map(stat.size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0);
    } catch (error) {
      throw new GgufFormatError("IO", `cannot memory-map ${path}: ${(error as Error).message}`, { path, cause: error });
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } finally {
    fs.closeSync(fd);
  }
}

class MappedGgufFile implements MappedGguf {
  readonly path: string;
  #file: GgufFile | undefined;

  constructor(path: string, file: GgufFile) {
    this.path = path;
    this.#file = file;
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
