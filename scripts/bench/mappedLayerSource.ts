/**
 * The other way to stream layers under a budget, for `npm run bench:stream-variants` only: no
 * copies — blocks are views of one read-only mapping of the file; the blocks ahead are asked for
 * with madvise(WILLNEED) (the kernel reads them into the page cache in the background), and an
 * evicted block's pages leave the process with madvise(DONTNEED) and the page cache with
 * posix_fadvise(DONTNEED). Eviction is the same next-use rule as StreamingLayerSource.
 *
 * What it cannot do: know when a block is in. Compute touches the pages and takes a major fault
 * (a synchronous read) for every page the read-ahead has not brought in yet, so "waiting for
 * disk" hides inside compute; and mmap-io maps files < 2 GiB only on this Node. The mapping is
 * MADV_SEQUENTIAL (kernel read-ahead on faults, pages dropped behind): with MADV_RANDOM every
 * fault the read-ahead has not covered is a single-page read, and a run took 14× as long.
 */
import fs from "node:fs";
import mmapModule from "@riaskov/mmap-io";
import type { AcquireFacts, LayerSource, SourceStats } from "../../src/engine/model/layerSource.js";
import { bindLayer, type LayerTensors, type LayerWeights } from "../../src/engine/model/weights.js";
import { dropFromPageCache } from "../../src/engine/streaming/pageCache.js";

type MmapIo = (typeof mmapModule)["default"];
const mmapExports = mmapModule as unknown as MmapIo & { default?: MmapIo };
const mmap: MmapIo = typeof mmapExports.map === "function" ? mmapExports : mmapExports.default!;

export class MappedLayerSource implements LayerSource, Disposable {
  private readonly fd: number;
  private readonly mapping: Buffer;
  private readonly resident = new Set<number>();
  private readonly bound = new Map<number, LayerWeights>();
  private cursor = -1;
  /** read ahead and not yet acquired: the first acquisition is the miss counted at the read */
  private readonly unused = new Set<number>();
  cacheHits = 0;
  cacheMisses = 0;
  /** not measured per acquire here (the kernel pages the mapping in behind our back) */
  readonly lastAcquire: AcquireFacts = { cacheHit: true, bytesRead: 0, ioWaitMs: 0 };

  constructor(
    path: string,
    private readonly layers: readonly LayerTensors[],
    private readonly budgetBytes: number,
    private readonly prefetchDepth: number,
  ) {
    this.fd = fs.openSync(path, "r");
    this.mapping = mmap.map(fs.fstatSync(this.fd).size, mmap.PROT_READ, mmap.MAP_SHARED, this.fd, 0, mmap.MADV_SEQUENTIAL);
  }

  stats(): SourceStats {
    const bytesRead = 0; // the kernel reads the pages; the benchmark measures the disk around the run
    return { cacheHits: this.cacheHits, cacheMisses: this.cacheMisses, bytesRead, ioWaitSeconds: 0, readBusySeconds: 0 };
  }

  acquire(il: number): LayerWeights {
    this.cursor = il;
    if (this.resident.has(il)) {
      if (!this.unused.delete(il)) this.cacheHits++;
    } else {
      this.cacheMisses++;
      this.makeRoom(this.layers[il].nBytes, 0);
      this.resident.add(il);
      this.advise(il, mmap.MADV_WILLNEED);
    }
    const n = this.layers.length;
    for (let k = 1; k <= Math.min(this.prefetchDepth, n - 1); k++) {
      const ahead = (il + k) % n;
      if (this.resident.has(ahead)) continue;
      if (!this.makeRoom(this.layers[ahead].nBytes, k)) break;
      this.resident.add(ahead);
      this.unused.add(ahead);
      this.cacheMisses++;
      this.advise(ahead, mmap.MADV_WILLNEED);
    }
    let weights = this.bound.get(il);
    if (!weights) {
      weights = bindLayer(this.layers[il], (info) => this.mapping.subarray(info.fileOffset, info.fileOffset + info.nBytes));
      this.bound.set(il, weights);
    }
    return weights;
  }

  release(): void {}

  describe(): string {
    return `mapped, madvise (budget ${this.budgetBytes} B, prefetch ${this.prefetchDepth})`;
  }

  private residentBytes(): number {
    let n = 0;
    for (const il of this.resident) n += this.layers[il].nBytes;
    return n;
  }

  /** Evicts the resident block used furthest ahead (never one needed within `neededWithin` slots, never the current one). */
  private makeRoom(nBytes: number, neededWithin: number): boolean {
    const n = this.layers.length;
    while (this.residentBytes() + nBytes > this.budgetBytes) {
      let victim = -1;
      let victimDistance = neededWithin;
      for (const il of this.resident) {
        if (il === this.cursor) continue;
        const distance = ((il - this.cursor - 1 + n) % n) + 1;
        if (distance > victimDistance) {
          victim = il;
          victimDistance = distance;
        }
      }
      if (victim < 0) return false;
      this.resident.delete(victim);
      this.unused.delete(victim);
      this.advise(victim, mmap.MADV_DONTNEED);
      const [from, to] = this.span(victim);
      dropFromPageCache(this.fd, from, to - from);
    }
    return true;
  }

  /** The block's byte range, widened to whole pages. */
  private span(il: number): [number, number] {
    const page = mmap.PAGESIZE;
    const all = this.layers[il].all;
    const from = Math.min(...all.map((t) => t.fileOffset));
    const to = Math.max(...all.map((t) => t.fileOffset + t.nBytes));
    return [Math.floor(from / page) * page, Math.min(this.mapping.length, Math.ceil(to / page) * page)];
  }

  private advise(il: number, advice: 3 | 4): void {
    const [from, to] = this.span(il);
    mmap.advise(this.mapping, from, to - from, advice);
  }

  [Symbol.dispose](): void {
    fs.closeSync(this.fd);
  }
}
