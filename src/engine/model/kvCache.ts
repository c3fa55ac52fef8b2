import { f32ArrayToF16 } from "../ggml/fp16.js";
import { OptionError } from "../errors.js";

/** KV cache element type: f16 (llama.cpp's default) or f32. */
export type KvType = "f16" | "f32";
/** Every KvType. */
export const KV_TYPES: readonly KvType[] = ["f16", "f32"];

/**
 * Keys and values of one sequence for the layers a runner holds, as llama.cpp keeps them:
 * F16 by default (values are rounded to half when stored), F32 on request.
 * A layer's storage is allocated on its first store (twice the positions it stores) and grows by
 * doubling up to `maxPositions`, so short runs and workers holding few layers reserve little.
 */
export class KvCache {
  /** per layer: [capacity, nKv], f16 bits or f32 */
  private readonly keys = new Map<number, Uint16Array | Float32Array>();
  private readonly values = new Map<number, Uint16Array | Float32Array>();
  /** per layer: positions filled */
  private readonly lengths = new Map<number, number>();

  constructor(
    /** nHeadKv · headDim: values per position per layer */
    readonly nKv: number,
    readonly maxPositions: number,
    readonly type: KvType = "f16",
    /** f32 → half bits for F16 stores (ComputeBackend.toHalf: the same bits, natively where it can) */
    private readonly toHalf: (src: Float32Array, dst: Uint16Array, dstOffset: number) => void = f32ArrayToF16,
  ) {
    if (!KV_TYPES.includes(type)) throw new OptionError("BAD_KV_TYPE", `unknown KV cache type "${type}" (supported: ${KV_TYPES.join(", ")})`);
  }

  get nBytes(): number {
    let n = 0;
    for (const k of this.keys.values()) n += 2 * k.byteLength;
    return n;
  }

  /** Positions held for `layer`. */
  lengthOf(layer: number): number {
    return this.lengths.get(layer) ?? 0;
  }

  /**
   * Stores keys and values of nTokens consecutive positions from `position` (≤ the current
   * length: storing earlier positions rewinds the layer to position + nTokens).
   * @param k f32 [nTokens, nKv]
   * @param v f32 [nTokens, nKv]
   */
  store(layer: number, position: number, nTokens: number, k: Float32Array, v: Float32Array): void {
    const length = this.lengthOf(layer);
    if (position > length) {
      throw new OptionError("BAD_POSITION", `layer ${layer} holds ${length} positions, cannot store at position ${position}`);
    }
    this.reserve(layer, position + nTokens);
    const n = nTokens * this.nKv;
    const at = position * this.nKv;
    const keys = this.keys.get(layer)!;
    const values = this.values.get(layer)!;
    if (keys instanceof Float32Array) {
      keys.set(k.subarray(0, n), at);
      (values as Float32Array).set(v.subarray(0, n), at);
    } else {
      this.toHalf(k.subarray(0, n), keys, at);
      this.toHalf(v.subarray(0, n), values as Uint16Array, at);
    }
    this.lengths.set(layer, position + nTokens);
  }

  /** Raw storage of one layer, [capacity, nKv], for attention kernels that read it in place. */
  raw(layer: number): { keys: Uint16Array | Float32Array; values: Uint16Array | Float32Array } {
    const keys = this.keys.get(layer);
    const values = this.values.get(layer);
    if (!keys || !values) throw new OptionError("EMPTY_LAYER", `layer ${layer} has no cached positions`);
    return { keys, values };
  }

  /** Forgets positions from `position` on, in every layer (memory is kept for reuse). */
  truncate(position: number): void {
    for (const [layer, length] of this.lengths) this.lengths.set(layer, Math.min(length, position));
  }

  private reserve(layer: number, nPositions: number): void {
    if (nPositions > this.maxPositions) {
      throw new OptionError("CONTEXT_FULL", `context is full: ${nPositions} positions needed, context size is ${this.maxPositions}`);
    }
    const old = this.keys.get(layer);
    const capacity = old ? old.length / this.nKv : 0;
    if (nPositions <= capacity) return;
    // the first store takes twice what it needs: a prompt is followed by its generation, which
    // then starts without every layer's cache being reallocated, zeroed and copied (a 7B-shaped
    // model's first decode step took 70 ms longer); later growth doubles
    const wanted = old ? Math.max(nPositions, capacity * 2) : 2 * nPositions;
    const newCapacity = Math.min(this.maxPositions, Math.max(wanted, 64));
    const make = () => (this.type === "f16" ? new Uint16Array(newCapacity * this.nKv) : new Float32Array(newCapacity * this.nKv));
    const k = make();
    const v = make();
    if (old) {
      k.set(old as never);
      v.set(this.values.get(layer)! as never);
    }
    this.keys.set(layer, k);
    this.values.set(layer, v);
  }
}
