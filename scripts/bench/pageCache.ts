/** Dropping the page cache before cold-read measurements (needs root; says so otherwise). */
import fs from "node:fs";
import { execFileSync } from "node:child_process";

export function canDropCaches(): boolean {
  try {
    fs.accessSync("/proc/sys/vm/drop_caches", fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** sync, then drop clean pages, dentries and inodes. Returns false where not permitted. */
export function dropCaches(): boolean {
  if (!canDropCaches()) return false;
  execFileSync("sync");
  fs.writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  return true;
}

/**
 * Sequential read bandwidth of `file` in bytes/s (16 MiB reads, cache dropped first when
 * possible): the best of `nRuns` full reads, so the IO lower bound derived from it is the
 * lowest the storage allows (this VM's reads vary by up to 4× between runs).
 */
export function measureReadBandwidth(file: string, nRuns = 3): { bytesPerSecond: number; cold: boolean; runs: number[] } {
  const runs: number[] = [];
  let cold = true;
  for (let i = 0; i < nRuns; i++) {
    cold = dropCaches() && cold;
    runs.push(sequentialReadRate(file));
  }
  return { bytesPerSecond: Math.max(...runs), cold, runs };
}

/** Bytes/s of one sequential read (16 MiB reads) of `file`, or of its first `maxBytes`. */
export function sequentialReadRate(file: string, maxBytes = Infinity): number {
  const fd = fs.openSync(file, "r");
  const chunk = Buffer.allocUnsafe(16 << 20);
  const start = performance.now();
  let total = 0;
  while (total < maxBytes) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, total);
    if (n === 0) break;
    total += n;
  }
  const seconds = (performance.now() - start) / 1000;
  fs.closeSync(fd);
  return total / seconds;
}
