/**
 * Dropping file ranges from the OS page cache once the streamer holds its own copy
 * (posix_fadvise DONTNEED through the native addon). Without the addon, or off Linux/FreeBSD,
 * this does nothing and the kernel keeps the pages until it needs the memory.
 */
import { loadNative } from "../native/loadNative.js";

/** Returns whether the kernel accepted the advice. */
export function dropFromPageCache(fd: number, offset: number, nBytes: number): boolean {
  return loadNative()?.adviseDontNeed?.(fd, offset, nBytes) ?? false;
}

/** Whether dropping is available in this process (for summaries and tests). */
export function canDropFromPageCache(): boolean {
  return typeof loadNative()?.adviseDontNeed === "function";
}
