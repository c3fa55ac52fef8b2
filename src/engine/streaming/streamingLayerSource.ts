/**
 * Layer streaming (AirLLM-style, with a cache): blocks are read from the model file into
 * owned buffers under a byte budget, kept while they fit, and read ahead of use so disk
 * reads overlap compute.
 *
 * Blocks run in a fixed cyclic order (0 … n−1, then again for the next token), so the
 * cache evicts by *next use* (Belady's rule): the resident block needed furthest in the
 * future goes first, which keeps a stable set resident and streams the rest through the
 * remaining room. Plain LRU is the worst policy for a cycle longer than the cache: it
 * evicts exactly the block needed next, and every access misses.
 *
 * Reads run on libuv's thread pool (fs.promises), so they proceed while the main thread
 * computes. A read-ahead never evicts a block that is needed before the one it brings in.
 */
import type fs from "node:fs/promises";
import { LRUCache } from "lru-cache";
import { OptionError } from "../errors.js";
import { checkUnchanged, describeChange, ModelFileChangedError, openRegularFileHandle, type FileStamp } from "../gguf/modelFile.js";
import type { GgufTensorInfo } from "../gguf/types.js";
import type { AcquireFacts, LayerSource, SourceStats } from "../model/layerSource.js";
import { bindLayer, type LayerTensors, type LayerWeights } from "../model/weights.js";
import { formatBytes } from "./byteSize.js";
import { dropFromPageCache } from "./pageCache.js";

export interface StreamingOptions {
  /** bytes the cached blocks may occupy */
  readonly budgetBytes: number;
  /** how many blocks ahead to read; 0 = only on demand */
  readonly prefetchDepth: number;
  /** the order blocks are run in, repeated every token (default 0 … n−1) */
  readonly schedule?: readonly number[];
  /** monotonic clock in ms (injected for tests) */
  readonly nowMs?: () => number;
  /**
   * Leave blocks read into the cache in the OS page cache too. Default false: after a block
   * is copied in, its file range is dropped from the page cache (posix_fadvise DONTNEED, through
   * the native addon), so the kernel does not hold a second copy of what the budget already
   * counts, and a block read again comes from the disk — as it must for a model larger than RAM.
   */
  readonly keepPageCache?: boolean;
  /**
   * The model file as the model opened it: the source's own descriptor must reach the same
   * file, and before each use and after each read the file must still be as it was — a file
   * truncated or overwritten underneath is a ModelFileChangedError, never garbage.
   */
  readonly stamp?: FileStamp;
}

export interface StreamingStats {
  /** acquisitions served by a block that stayed resident since its previous use */
  cacheHits: number;
  /** block reads started, on demand or ahead of use (so bytesRead = Σ the blocks' sizes over misses) */
  cacheMisses: number;
  bytesRead: number;
  /** time acquisitions spent waiting for reads */
  ioWaitSeconds: number;
  /** time at least one read was in flight (the disk was busy for us) */
  readBusySeconds: number;
  /** cached bytes now, and the most ever */
  residentBytes: number;
  peakResidentBytes: number;
}

interface CachedBlock {
  readonly il: number;
  readonly buffer: Uint8Array;
  /** resolves when the data is in */
  readonly ready: Promise<LayerWeights>;
  weights?: LayerWeights;
  pins: number;
  /** read (ahead) and not yet acquired: its first acquisition is the miss counted at the read */
  unused: boolean;
}

export class StreamingLayerSource implements LayerSource, AsyncDisposable {
  /** lru-cache does the byte accounting; eviction order is chosen here (next use), never by its LRU */
  private readonly cache: LRUCache<number, CachedBlock>;
  private readonly schedule: readonly number[];
  private readonly slotOf = new Map<number, number>();
  /** schedule slot of the block most recently acquired */
  private cursor = -1;
  private readonly nowMs: () => number;
  private readonly counters: StreamingStats = { cacheHits: 0, cacheMisses: 0, bytesRead: 0, ioWaitSeconds: 0, readBusySeconds: 0, residentBytes: 0, peakResidentBytes: 0 };
  private disposed = false;
  /** buffers of evicted blocks, reused by the next read of the same size (no allocation churn, no GC lag) */
  private spare: Uint8Array[] = [];
  /** what the latest acquire found: resident, or a read it waited for (LayerSource.lastAcquire) */
  lastAcquire: AcquireFacts = { cacheHit: true, bytesRead: 0, ioWaitMs: 0 };
  private readsInFlight = 0;
  /** when readsInFlight last went from 0 to 1 */
  private busySinceMs = 0;

  private constructor(
    private readonly file: fs.FileHandle,
    private readonly path: string,
    private readonly layers: readonly LayerTensors[],
    private readonly options: StreamingOptions,
  ) {
    this.schedule = options.schedule ?? layers.map((_, il) => il);
    this.schedule.forEach((il, slot) => this.slotOf.set(il, slot));
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.cache = new LRUCache<number, CachedBlock>({
      maxSize: Number.MAX_SAFE_INTEGER, // the budget is enforced by makeRoom, before inserting
      sizeCalculation: (block) => block.buffer.byteLength,
    });
  }

  /** Smallest budget that can run: the largest block. */
  static minimumBudget(layers: readonly LayerTensors[]): number {
    return Math.max(...layers.map((l) => l.nBytes));
  }

  /** How many of `layers` a budget holds at once (counting each as the largest; 0 for none). */
  static layersThatFit(layers: readonly LayerTensors[], budgetBytes: number): number {
    return layers.length === 0 ? 0 : Math.min(layers.length, Math.floor(budgetBytes / StreamingLayerSource.minimumBudget(layers)));
  }

  static async open(path: string, layers: readonly LayerTensors[], options: StreamingOptions): Promise<StreamingLayerSource> {
    const minimum = StreamingLayerSource.minimumBudget(layers);
    if (options.budgetBytes < minimum) {
      throw new OptionError(
        "BUDGET_TOO_SMALL",
        `layer budget ${formatBytes(options.budgetBytes)} cannot hold one layer: the largest needs ${formatBytes(minimum)}`,
      );
    }
    if (!Number.isInteger(options.prefetchDepth) || options.prefetchDepth < 0) {
      throw new OptionError("BAD_PREFETCH", `prefetch depth ${options.prefetchDepth} must be a whole number ≥ 0`);
    }
    const { handle, stamp } = await openRegularFileHandle(path);
    const change = options.stamp && describeChange(options.stamp, stamp);
    if (change) {
      await handle.close();
      throw new ModelFileChangedError(path, change);
    }
    return new StreamingLayerSource(handle, path, layers, { ...options, stamp });
  }

  async acquire(il: number): Promise<LayerWeights> {
    if (this.disposed) throw new Error("StreamingLayerSource used after dispose");
    this.checkFile();
    const slot = this.slotOf.get(il);
    if (slot === undefined) throw new OptionError("BAD_LAYER", `layer ${il} is not in this source's schedule`);
    this.cursor = slot;
    let block = this.cache.peek(il);
    const cacheHit = block !== undefined && !block.unused;
    if (block) {
      if (!block.unused) this.counters.cacheHits++;
    } else {
      if (!this.makeRoom(this.layers[il].nBytes, 0)) {
        // only blocks still being read stand in the way: let them land, then evict
        await Promise.allSettled([...this.cache.values()].map((b) => b.ready));
        if (!this.makeRoom(this.layers[il].nBytes, 0)) {
          throw new OptionError("BUDGET_TOO_SMALL", `layer budget ${formatBytes(this.options.budgetBytes)} is exhausted by layers in use`);
        }
      }
      block = this.startRead(il);
    }
    block.pins++;
    block.unused = false;
    this.prefetchAhead();
    let ioWaitMs = 0;
    if (!block.weights) {
      const waitStart = this.nowMs();
      await block.ready;
      ioWaitMs = this.nowMs() - waitStart;
      this.counters.ioWaitSeconds += ioWaitMs / 1000;
    }
    this.lastAcquire = { cacheHit, bytesRead: cacheHit ? 0 : block.buffer.byteLength, ioWaitMs };
    return block.weights!;
  }

  release(il: number): void {
    const block = this.cache.peek(il);
    if (block && block.pins > 0) block.pins--;
  }

  describe(): string {
    return `streaming (budget ${formatBytes(this.options.budgetBytes)}, prefetch ${this.options.prefetchDepth})`;
  }

  snapshot(): StreamingStats {
    return { ...this.counters, residentBytes: this.cache.calculatedSize };
  }

  stats(): SourceStats {
    const { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds } = this.counters;
    return { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds };
  }

  /** Blocks resident or being read now. */
  residentLayers(): number[] {
    return [...this.cache.keys()].sort((a, b) => a - b);
  }

  /** Distance in schedule slots from the current position to the next use of `il` (1 … n). */
  private distanceToUse(il: number): number {
    const n = this.schedule.length;
    return ((this.slotOf.get(il)! - this.cursor - 1 + n) % n) + 1;
  }

  /**
   * Evicts unpinned blocks, furthest next use first, until `nBytes` more fit. Only blocks
   * used later than `neededWithin` slots from now may go. Returns whether room was made.
   */
  private makeRoom(nBytes: number, neededWithin: number): boolean {
    const budget = this.options.budgetBytes;
    while (this.cache.calculatedSize + nBytes > budget) {
      let victim: CachedBlock | undefined;
      let victimDistance = neededWithin;
      for (const block of this.cache.values()) {
        if (block.pins > 0 || !block.weights) continue;
        const distance = this.distanceToUse(block.il);
        if (distance > victimDistance) {
          victim = block;
          victimDistance = distance;
        }
      }
      if (!victim) return false;
      this.cache.delete(victim.il);
      this.spare.push(victim.buffer);
    }
    return true;
  }

  private prefetchAhead(): void {
    const n = this.schedule.length;
    for (let k = 1; k <= Math.min(this.options.prefetchDepth, n - 1); k++) {
      const il = this.schedule[(this.cursor + k) % n];
      if (this.cache.has(il)) continue;
      if (!this.makeRoom(this.layers[il].nBytes, k)) return;
      this.startRead(il);
    }
  }

  private startRead(il: number): CachedBlock {
    const tensors = this.layers[il];
    const reuse = this.spare.findIndex((b) => b.byteLength === tensors.nBytes);
    const buffer = reuse >= 0 ? this.spare[reuse] : new Uint8Array(tensors.nBytes);
    this.spare = []; // spares not reused now are left to the garbage collector
    const block: CachedBlock = { il, buffer, pins: 0, unused: true, ready: undefined as never };
    this.counters.cacheMisses++;
    this.counters.bytesRead += buffer.byteLength; // counted when issued, like the miss
    (block as { ready: Promise<LayerWeights> }).ready = this.read(tensors, buffer).then((bytesOf) => {
      block.weights = bindLayer(tensors, bytesOf);
      return block.weights;
    });
    // a read-ahead that fails is reported by the acquire that awaits it
    block.ready.catch(() => this.cache.delete(il));
    this.cache.set(il, block);
    this.counters.peakResidentBytes = Math.max(this.counters.peakResidentBytes, this.cache.calculatedSize);
    return block;
  }

  /** Reads a block's tensors, packed one after another, into `buffer`. */
  private async read(tensors: LayerTensors, buffer: Uint8Array): Promise<(info: GgufTensorInfo) => Uint8Array> {
    if (this.readsInFlight++ === 0) this.busySinceMs = this.nowMs();
    try {
      const bytesOf = await this.readTensors(tensors, buffer);
      this.checkFile(); // a block read while the file changed is not used
      return bytesOf;
    } catch (error) {
      this.checkFile(); // a read that failed because the file shrank names the change
      throw error;
    } finally {
      if (--this.readsInFlight === 0) this.counters.readBusySeconds += (this.nowMs() - this.busySinceMs) / 1000;
    }
  }

  private async readTensors(tensors: LayerTensors, buffer: Uint8Array): Promise<(info: GgufTensorInfo) => Uint8Array> {
    const offsets = new Map<string, number>();
    let at = 0;
    const reads: Promise<void>[] = [];
    for (const info of tensors.all) {
      offsets.set(info.name, at);
      reads.push(this.readFully(buffer.subarray(at, at + info.nBytes), info.fileOffset));
      at += info.nBytes;
    }
    await Promise.all(reads);
    if (!this.options.keepPageCache) for (const [from, to] of fileSpans(tensors)) dropFromPageCache(this.file.fd, from, to - from);
    return (info) => buffer.subarray(offsets.get(info.name)!, offsets.get(info.name)! + info.nBytes);
  }

  private async readFully(into: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.file.read(into, done, Math.min(into.length - done, 1 << 30), position + done);
      if (bytesRead === 0) throw new OptionError("TRUNCATED", `${this.path}: unexpected end of file at offset ${position + done}`);
      done += bytesRead;
    }
  }

  /** @throws ModelFileChangedError when the file is no longer as the model opened it */
  private checkFile(): void {
    if (this.options.stamp && !this.disposed) checkUnchanged(this.file.fd, this.path, this.options.stamp);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([...this.cache.values()].map((b) => b.ready));
    this.cache.clear();
    this.spare = [];
    await this.file.close();
  }
}

/** A block's byte ranges in the file, neighbours less than a page apart merged (so the pages between tensors go too). */
function fileSpans(tensors: LayerTensors): [number, number][] {
  const sorted = [...tensors.all].sort((a, b) => a.fileOffset - b.fileOffset);
  const spans: [number, number][] = [];
  for (const info of sorted) {
    const last = spans.at(-1);
    if (last && info.fileOffset - last[1] < 4096) last[1] = Math.max(last[1], info.fileOffset + info.nBytes);
    else spans.push([info.fileOffset, info.fileOffset + info.nBytes]);
  }
  return spans;
}
