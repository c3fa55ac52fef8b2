import { fmaF32 } from "../quant/simd.js";
import type { RopeParams } from "./hparams.js";
import { glibcCosf, glibcSinf } from "../ggml/glibcSinCosf.js";

/**
 * Rotary position embeddings as ggml_rope_ext computes them: per position p, the angle of
 * pair i is p · base^(−2i/nRot), accumulated by repeated multiplication in f32 like
 * ggml_rope_cache_init, with linear scaling, optional per-pair frequency factors
 * (`rope_freqs.weight`, Llama 3.1) and YaRN ramps.
 */
export class RopeTable {
  private readonly thetaScale: number;
  private readonly corrDims: [number, number];
  /** f32 [nPositions, nRot]: cos at even, sin at odd indices */
  private table = new Float32Array(0);
  private nPositions = 0;

  constructor(
    readonly params: RopeParams,
    /** f32 [nRot / 2] divisors of each pair's angle, or undefined */
    private readonly freqFactors?: Float32Array,
  ) {
    this.thetaScale = Math.fround(Math.pow(params.freqBase, Math.fround(-2 / params.nRot))); // powf(base, -2.0f/n_dims)
    this.corrDims = yarnCorrDims(params.nRot, params.nCtxOrig, params.freqBase, params.betaFast, params.betaSlow);
  }

  /** cos/sin pairs for one position: f32 [nRot] view, valid until the next call that grows the table. */
  cosSin(position: number): Float32Array {
    if (position >= this.nPositions) this.grow(position + 1);
    const nRot = this.params.nRot;
    return this.table.subarray(position * nRot, (position + 1) * nRot);
  }

  /**
   * cos/sin pairs of nPositions consecutive positions from `position`: f32 [nPositions, nRot]
   * view, valid until the next call that grows the table.
   */
  cosSinRows(position: number, nPositions: number): Float32Array {
    if (position + nPositions > this.nPositions) this.grow(position + nPositions);
    const nRot = this.params.nRot;
    return this.table.subarray(position * nRot, (position + nPositions) * nRot);
  }

  private grow(minPositions: number): void {
    const nRot = this.params.nRot;
    const nPositions = Math.max(minPositions, this.nPositions * 2, 256);
    const table = new Float32Array(nPositions * nRot);
    table.set(this.table);
    for (let p = this.nPositions; p < nPositions; p++) this.fillPosition(table, p);
    this.table = table;
    this.nPositions = nPositions;
  }

  private fillPosition(table: Float32Array, position: number): void {
    const { nRot, freqScale, extFactor, attnFactor } = this.params;
    let theta = Math.fround(position);
    for (let i0 = 0; i0 < nRot; i0 += 2) {
      const factor = this.freqFactors ? this.freqFactors[i0 / 2] : 1;
      const thetaExtrap = Math.fround(theta / factor);
      const thetaInterp = Math.fround(freqScale * thetaExtrap);
      let angle = thetaInterp;
      let mscale = attnFactor;
      if (extFactor !== 0) {
        const rampMix = Math.fround(yarnRamp(this.corrDims[0], this.corrDims[1], i0) * extFactor);
        angle = Math.fround(Math.fround(thetaInterp * Math.fround(1 - rampMix)) + Math.fround(thetaExtrap * rampMix));
        mscale = Math.fround(mscale * Math.fround(1 + 0.1 * Math.log(1 / freqScale)));
      }
      const at = position * nRot + i0;
      // ggml's rope cache: cosf/sinf of the C library (glibc's, not correctly rounded) times mscale
      table[at] = glibcCosf(angle) * mscale;
      table[at + 1] = glibcSinf(angle) * mscale;
      theta = Math.fround(theta * this.thetaScale);
    }
  }
}

function yarnRamp(low: number, high: number, i0: number): number {
  const y = (Math.floor(i0 / 2) - low) / Math.max(0.001, high - low);
  return 1 - Math.min(1, Math.max(0, y));
}

function yarnCorrDims(nDims: number, nCtxOrig: number, freqBase: number, betaFast: number, betaSlow: number): [number, number] {
  const corrDim = (nRotations: number) => (nDims * Math.log(nCtxOrig / (nRotations * 2 * Math.PI))) / (2 * Math.log(freqBase));
  const start = Math.floor(corrDim(betaFast));
  const end = Math.ceil(corrDim(betaSlow));
  return [Math.max(0, start), Math.min(nDims - 1, end)];
}

/**
 * Rotates the first nRot dimensions of every head of one token in place (the reference of
 * ComputeBackend.rope).
 * @param x f32 [nHeads, headDim] (one token)
 * @param cosSin f32 [nRot] from RopeTable.cosSin
 */
export function applyRopeTypeScript(x: Float32Array, xOffset: number, nHeads: number, headDim: number, cosSin: Float32Array, layout: "norm" | "neox"): void {
  const nRot = cosSin.length;
  const half = nRot / 2;
  for (let h = 0; h < nHeads; h++) {
    const base = xOffset + h * headDim;
    for (let i0 = 0; i0 < nRot; i0 += 2) {
      const cos = cosSin[i0];
      const sin = cosSin[i0 + 1];
      const a = layout === "norm" ? base + i0 : base + i0 / 2;
      const b = layout === "norm" ? a + 1 : a + half;
      const x0 = x[a];
      const x1 = x[b];
      // GCC contracts rotate_pairs into fused multiply-adds: x0·cos − f32(x1·sin), x0·sin + f32(x1·cos)
      x[a] = fmaF32(x0, cos, -Math.fround(x1 * sin));
      x[b] = fmaF32(x0, sin, Math.fround(x1 * cos));
    }
  }
}
