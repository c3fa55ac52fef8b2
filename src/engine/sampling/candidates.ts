/**
 * The working set of the sampler chain: llama.cpp's `llama_token_data_array`, as
 * typed arrays allocated once per vocabulary size and reused for every token.
 *
 * Ordering is "logit descending, then token id ascending", so ties are broken
 * deterministically towards the lower id.
 */

/** sort keys pack (order of logit, token id) into one double; ids must fit in this many bits */
const ID_BITS = 21;
const ID_RADIX = 2 ** ID_BITS;
/** largest vocabulary the packed-key sort handles; bigger ones use a comparator sort */
const MAX_PACKED_VOCAB = ID_RADIX;

export class CandidateList {
  /** f32 [nVocab] logits by token id: the caller's copy, then penalized and temperature-scaled in place */
  readonly logits: Float32Array;
  /** u32 [nVocab] the bits of `logits`, for order-preserving sort keys */
  private readonly logitBits: Uint32Array;
  /** i32 [nVocab] candidate token ids; the first `size` are live, in candidate order */
  readonly ids: Int32Array;
  /** f32 [nVocab] per-position scratch (the dist step's unnormalized probabilities) */
  readonly probs: Float32Array;
  /** i32 [nVocab] output of `selectTop` */
  readonly topIds: Int32Array;
  /** f64 [nVocab] packed sort keys */
  private readonly sortKeys: Float64Array;
  /** i32 [nVocab] min-heap of token ids used by `selectTop` (worst kept candidate at the root) */
  private readonly heap: Int32Array;

  /** number of live candidates */
  size = 0;
  /** true when ids[0..size) is in descending order (llama.cpp's `sorted` flag) */
  sorted = false;

  constructor(readonly nVocab: number) {
    this.logits = new Float32Array(nVocab);
    this.logitBits = new Uint32Array(this.logits.buffer);
    this.ids = new Int32Array(nVocab);
    this.probs = new Float32Array(nVocab);
    this.topIds = new Int32Array(nVocab);
    this.sortKeys = new Float64Array(nVocab);
    this.heap = new Int32Array(nVocab);
  }

  /** Copies `source` (f32 [nVocab]) into `logits` and makes every token a candidate, in id order. */
  load(source: Float32Array): void {
    this.logits.set(source);
    const ids = this.ids;
    for (let id = 0; id < this.nVocab; id++) {
      ids[id] = id;
    }
    this.size = this.nVocab;
    this.sorted = false;
  }

  /** Token id with the largest logit over the whole vocabulary, lowest id on ties (NaN never wins). */
  argmaxToken(): number {
    const logits = this.logits;
    let best = 0;
    let bestLogit = -Infinity;
    for (let id = 0; id < this.nVocab; id++) {
      if (logits[id] > bestLogit) {
        bestLogit = logits[id];
        best = id;
      }
    }
    return best;
  }

  /** Largest logit among the live candidates. */
  maxLogit(): number {
    const { logits, ids, size } = this;
    if (this.sorted) {
      return logits[ids[0]];
    }
    let max = -Infinity;
    for (let i = 0; i < size; i++) {
      const logit = logits[ids[i]];
      if (logit > max) {
        max = logit;
      }
    }
    return max;
  }

  /** Sorts the live candidates in descending order. */
  sort(): void {
    this.sortIds(this.ids, this.size);
    this.sorted = true;
  }

  /**
   * Writes the best `count` live candidates, in descending order, to `topIds[0..count)`,
   * leaving `ids` untouched. Partial selection: O(size · log count), no full sort.
   */
  selectTop(count: number): void {
    const { ids, size, heap, logits } = this;
    let heapSize = 0;
    for (let i = 0; i < size; i++) {
      const id = ids[i];
      if (heapSize < count) {
        heapSize++;
        this.siftUp(heapSize - 1, id);
      } else if (this.isWorse(heap[0], logits[heap[0]], id, logits[id])) {
        this.siftDown(id, heapSize);
      }
    }
    this.topIds.set(heap.subarray(0, heapSize));
    this.sortIds(this.topIds, heapSize);
  }

  /** Keeps only the best `count` candidates, sorted (llama.cpp's top-k). */
  keepTop(count: number): void {
    if (count >= this.size) {
      if (!this.sorted) {
        this.sort();
      }
      return;
    }
    if (!this.sorted) {
      this.selectTop(count);
      this.ids.set(this.topIds.subarray(0, count));
      this.sorted = true;
    }
    this.size = count;
  }

  /** true when candidate (idA, logitA) ranks below (idB, logitB) */
  private isWorse(idA: number, logitA: number, idB: number, logitB: number): boolean {
    return logitA < logitB || (logitA === logitB && idA > idB);
  }

  /** Places `id` at heap slot `slot` and moves it up until its parent is worse. */
  private siftUp(slot: number, id: number): void {
    const { heap, logits } = this;
    const logit = logits[id];
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot];
      if (!this.isWorse(id, logit, parent, logits[parent])) {
        break;
      }
      heap[slot] = parent;
      slot = parentSlot;
    }
    heap[slot] = id;
  }

  /** Replaces the heap root with `id` and moves it down until both children are better. */
  private siftDown(id: number, heapSize: number): void {
    const { heap, logits } = this;
    const logit = logits[id];
    let slot = 0;
    for (;;) {
      let childSlot = 2 * slot + 1;
      if (childSlot >= heapSize) {
        break;
      }
      const rightSlot = childSlot + 1;
      if (rightSlot < heapSize && this.isWorse(heap[rightSlot], logits[heap[rightSlot]], heap[childSlot], logits[heap[childSlot]])) {
        childSlot = rightSlot;
      }
      const child = heap[childSlot];
      if (!this.isWorse(child, logits[child], id, logit)) {
        break;
      }
      heap[slot] = child;
      slot = childSlot;
    }
    heap[slot] = id;
  }

  /** Sorts target[0..count) descending by logit, ascending by id on ties. */
  private sortIds(target: Int32Array, count: number): void {
    if (this.nVocab > MAX_PACKED_VOCAB) {
      const logits = this.logits;
      target.subarray(0, count).sort((a, b) => logits[b] - logits[a] || a - b);
      return;
    }
    // Key = (2^32 - 1 - orderOf(logit)) · 2^21 + id < 2^53: a native numeric sort of the
    // keys orders by descending logit, then ascending id, with no comparator calls.
    const { sortKeys, logitBits } = this;
    for (let i = 0; i < count; i++) {
      const id = target[i];
      const raw = logitBits[id];
      const bits = raw === 0x80000000 ? 0 : raw; // -0 ranks as +0, as the float comparisons do
      const order = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
      sortKeys[i] = (0xffffffff - order) * ID_RADIX + id;
    }
    sortKeys.subarray(0, count).sort();
    for (let i = 0; i < count; i++) {
      const key = sortKeys[i];
      target[i] = key - Math.floor(key / ID_RADIX) * ID_RADIX;
    }
  }
}
