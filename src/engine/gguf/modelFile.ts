/**
 * Opening a model file safely, and noticing when it changes while in use.
 *
 * - `openRegularFile`: stat first, then open with O_NONBLOCK, then fstat again: a FIFO never
 *   blocks the process (open() of a FIFO without a writer would wait forever, Ctrl-C included),
 *   and anything but a regular file (FIFO, socket, device, directory) is a one-line error
 *   naming the path and what it is.
 * - `FileStamp` (device, inode, size, mtime) of the file when it was opened, and
 *   `checkUnchanged(fd, …)`: a cheap fstat of the open descriptor, compared with the stamp. The
 *   descriptor is what every read goes through, so this catches exactly the changes that can
 *   corrupt what is read — truncation and in-place overwrites — and, for a descriptor opened
 *   later by path (the streaming source), a file that was replaced in between (another inode).
 */
import fs from "node:fs";
import { LayerstreamError } from "../errors.js";
import { GgufFormatError } from "./errors.js";

/** What identifies the bytes of a file at one moment. */
export interface FileStamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/** The model file changed on disk (truncated, overwritten, replaced) while this process used it. */
export class ModelFileChangedError extends LayerstreamError {
  constructor(
    readonly path: string,
    readonly change: string,
  ) {
    super("MODEL_FILE_CHANGED", `model file ${path} changed on disk while in use (${change}); restart with the new file`);
  }
}

export function stampOf(stats: fs.BigIntStats): FileStamp {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs };
}

/** "a FIFO (named pipe)", "a directory", … for a file that is not regular. */
export function fileKind(stats: fs.Stats | fs.BigIntStats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a regular file";
}

export interface OpenedFile {
  readonly fd: number;
  readonly stamp: FileStamp;
  /** bytes, as a number (files up to 2^53) */
  readonly size: number;
}

/**
 * Opens `path` read-only without ever blocking, and only if it is a regular file.
 * @throws GgufFormatError FILE_NOT_FOUND, NOT_A_FILE (naming what it is) or IO
 */
export function openRegularFile(path: string): OpenedFile {
  refuseIrregular(path, statOrThrow(path));
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    const stats = fs.fstatSync(fd, { bigint: true });
    refuseIrregular(path, stats); // replaced between the stat and the open
    return { fd, stamp: stampOf(stats), size: Number(stats.size) };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** fs.promises.open's counterpart of openRegularFile (for reads on libuv's pool). */
export async function openRegularFileHandle(path: string): Promise<{ handle: fs.promises.FileHandle; stamp: FileStamp }> {
  refuseIrregular(path, statOrThrow(path));
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    const stats = fs.fstatSync(handle.fd, { bigint: true });
    refuseIrregular(path, stats);
    return { handle, stamp: stampOf(stats) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Throws ModelFileChangedError when the file open as `fd` is no longer the one `stamp`
 * describes (another size or mtime; another inode when `fd` was opened separately).
 */
export function checkUnchanged(fd: number, path: string, stamp: FileStamp): void {
  let now: fs.BigIntStats;
  try {
    now = fs.fstatSync(fd, { bigint: true });
  } catch (error) {
    throw new ModelFileChangedError(path, `cannot stat it: ${(error as Error).message}`);
  }
  const change = describeChange(stamp, stampOf(now));
  if (change !== undefined) throw new ModelFileChangedError(path, change);
}

/** What differs between two stamps, or undefined when they are the same file, unchanged. */
export function describeChange(before: FileStamp, after: FileStamp): string | undefined {
  if (before.dev !== after.dev || before.ino !== after.ino) return `replaced: inode ${before.ino} → ${after.ino}`;
  if (before.size !== after.size) return `size ${before.size} → ${after.size} bytes`;
  if (before.mtimeNs !== after.mtimeNs) return `modified at ${new Date(Number(after.mtimeNs / 1_000_000n)).toISOString()}`;
  return undefined;
}

function statOrThrow(path: string): fs.Stats {
  try {
    return fs.statSync(path);
  } catch (error) {
    throw openFailure(path, error);
  }
}

function refuseIrregular(path: string, stats: fs.Stats | fs.BigIntStats): void {
  if (!stats.isFile()) throw new GgufFormatError("NOT_A_FILE", `${path} is ${fileKind(stats)}, not a regular file`, { path });
}

function openFailure(path: string, error: unknown): GgufFormatError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new GgufFormatError("FILE_NOT_FOUND", `GGUF file not found: ${path}`, { path, cause: error });
  return new GgufFormatError("IO", `cannot open ${path}: ${(error as Error).message}`, { path, cause: error });
}

/**
 * The model file as a process opened it, checked before each use (`check()`: one fstat, about
 * a microsecond). It reads through its own descriptor or the one it is given; `close()` ends
 * the checks (nothing left reads the file).
 */
export class FileWatch {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly stamp: FileStamp,
    private readonly ownsFd: boolean,
  ) {}

  /** Watches through `fd`, which the caller keeps open until close(). */
  static onDescriptor(path: string, fd: number, stamp: FileStamp): FileWatch {
    return new FileWatch(path, fd, stamp, false);
  }

  /** Opens its own descriptor; the file must still be the one `expected` describes. */
  static open(path: string, expected: FileStamp): FileWatch {
    const { fd, stamp } = openRegularFile(path);
    const change = describeChange(expected, stamp);
    if (change !== undefined) {
      fs.closeSync(fd);
      throw new ModelFileChangedError(path, change);
    }
    return new FileWatch(path, fd, stamp, true);
  }

  /** @throws ModelFileChangedError when the file is no longer as it was opened */
  check(): void {
    if (!this.closed) checkUnchanged(this.fd, this.path, this.stamp);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsFd) fs.closeSync(this.fd);
  }
}
