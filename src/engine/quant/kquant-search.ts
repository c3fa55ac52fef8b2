/**
 * Scale searches used by the K-quant reference quantizers (ggml-quants.c `make_qkx2_quants`,
 * `make_qx_quants`), with every f32 operation rounded as in C (no FMA contraction, left-to-right).
 */
import { nearestInt, signedAbsMax } from "./scalar.js";

const fr = Math.fround;
const GROUP_MAX_EPS = fr(1e-15);
const RDELTA_STEP = fr(0.1);

/** The settings of one `make_qkx2_quants` call site (Q4_K: 15, -1, 0.1, 20, false). */
export interface Qkx2Search {
  /** largest code */
  readonly nmax: number;
  /** candidate inverse scales are (rmin + rdelta·is + nmax) / (max − min), is = 0..nstep */
  readonly rmin: number;
  readonly rdelta: number;
  /** no candidates when < 1 */
  readonly nstep: number;
  /** minimize Σ w·|error| instead of Σ w·error² */
  readonly useMad: boolean;
}

/** makeQkx2Quants scratch: [min, max, Σw, Σw·x] of the values */
const stats = new Float64Array(4);
const STATS_MIN = 0;
const STATS_MAX = 1;
const SUM_W = 2;
const SUM_X = 3;
/** makeQkx2Quants state: the best fit so far [scale, min, error]; `fit` (below) uses the first two */
const bestFit = new Float64Array(3);
const SCALE = 0;
const MIN = 1;
const ERROR = 2;

/**
 * Asymmetric search (`make_qkx2_quants`): finds scale and min so that x ≈ scale*L - theMin with
 * L in [0, nmax], minimizing the weighted squared (or absolute, `useMad`) error over `nstep + 1`
 * candidate inverse scales `(rmin + rdelta*is + nmax) / (max - min)`.
 *
 * @param x f32 [n], the values
 * @param weights f32 [n]
 * @param levels out: the chosen codes [n]
 * @param levelsAux scratch of n codes
 * @param minOut out: `minOut[0]` = theMin (≥ 0, the negated minimum)
 * @returns scale
 */
export function makeQkx2Quants(search: Qkx2Search, x: Float32Array, weights: Float32Array, levels: Uint8Array, levelsAux: Uint8Array, minOut: Float32Array): number {
  rangeAndWeightedSums(x, weights);
  const min = stats[STATS_MIN] > 0 ? 0 : stats[STATS_MIN];
  const max = stats[STATS_MAX];
  if (max === min) {
    levels.fill(0);
    minOut[0] = -min;
    return 0;
  }
  // the first fit: scale = 1/iscale with the values' minimum
  const iscale = fr(search.nmax / fr(max - min));
  for (let i = 0; i < x.length; i++) levels[i] = levelOf(iscale, x[i], min, search.nmax);
  bestFit[SCALE] = fr(1 / iscale);
  bestFit[MIN] = min;
  bestFit[ERROR] = fitError(search.useMad, x, weights, levels, bestFit[SCALE], min);
  if (search.nstep >= 1) searchCandidates(search, x, weights, levels, levelsAux);
  minOut[0] = -bestFit[MIN];
  return bestFit[SCALE];
}

/** `stats` = [min, max, Σw, Σw·x] of the values, the sums accumulated in f32 from the first value on. */
function rangeAndWeightedSums(x: Float32Array, weights: Float32Array): void {
  let min = x[0];
  let max = x[0];
  let sumW = weights[0];
  let sumX = fr(sumW * x[0]);
  for (let i = 1; i < x.length; i++) {
    const xi = x[i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * xi));
  }
  stats[STATS_MIN] = min;
  stats[STATS_MAX] = max;
  stats[SUM_W] = sumW;
  stats[SUM_X] = sumX;
}

/**
 * The candidates of make_qkx2_quants: for each inverse scale, the codes, their weighted
 * least-squares scale and min, and that fit's error; a better fit replaces `levels` and `bestFit`.
 */
function searchCandidates(search: Qkx2Search, x: Float32Array, weights: Float32Array, levels: Uint8Array, levelsAux: Uint8Array): void {
  const { nmax, nstep, useMad } = search;
  const rdelta = fr(search.rdelta);
  const rmin = fr(search.rmin);
  const max = stats[STATS_MAX];
  const n = x.length;
  for (let is = 0; is <= nstep; is++) {
    // min moves when a candidate wins, and later candidates start from it (as in ggml)
    const min = bestFit[MIN];
    const iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      const l = levelOf(iscale, xi, min, nmax);
      levelsAux[i] = l;
      const wl = fr(weights[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * xi));
    }
    if (!leastSquaresFit(sumL, sumL2, sumXL)) continue;
    const error = fitError(useMad, x, weights, levelsAux, fit[SCALE], fit[MIN]);
    if (error < bestFit[ERROR]) {
      for (let i = 0; i < n; i++) levels[i] = levelsAux[i];
      bestFit[SCALE] = fit[SCALE];
      bestFit[MIN] = fit[MIN];
      bestFit[ERROR] = error;
    }
  }
}

/** The code of value xi: clamp(nearest_int(iscale·(xi − min)), 0, nmax). */
function levelOf(iscale: number, xi: number, min: number, nmax: number): number {
  return Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(xi - min)))));
}

/** Σ w_i·err_i of x ≈ scale·L + min over the values, err = diff² (or |diff| with `useMad`), in f32. */
function fitError(useMad: boolean, x: Float32Array, weights: Float32Array, levels: Uint8Array, scale: number, min: number): number {
  let error = 0;
  for (let i = 0; i < x.length; i++) {
    let diff = fr(fr(fr(scale * levels[i]) + min) - x[i]);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    error = fr(error + fr(weights[i] * diff));
  }
  return error;
}

/** leastSquaresFit result: scale, min */
const fit = new Float64Array(2);

/**
 * The weighted least-squares scale and min (≤ 0) of x ≈ scale·L + min from Σw·L, Σw·L², Σw·x·L
 * (and Σw, Σw·x in `stats`), into `fit`; false when the system is singular (det ≤ 0), as ggml then
 * skips the candidate.
 */
function leastSquaresFit(sumL: number, sumL2: number, sumXL: number): boolean {
  const sumW = stats[SUM_W];
  const sumX = stats[SUM_X];
  const det = fr(fr(sumW * sumL2) - fr(sumL * sumL));
  if (!(det > 0)) return false;
  let scale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / det);
  let min = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / det);
  if (min > 0) {
    min = 0;
    scale = fr(sumXL / sumL2);
  }
  fit[SCALE] = scale;
  fit[MIN] = min;
  return true;
}

/**
 * Symmetric search (`make_qx_quants` with rmse_type 1 and no importance weights, as the Q6_K
 * reference uses it): codes L in [0, 2*nmax) stand for L - nmax; tries 19 inverse scales
 * `-(nmax + 0.1*is) / max` and keeps the one with the best weighted (x²) least-squares fit.
 *
 * @param levels out: codes at `levels[levelOffset..]`
 * @returns scale (signed, like max)
 */
export function makeQxQuants(
  n: number,
  nmax: number,
  x: Float32Array,
  xOffset: number,
  levels: Uint8Array,
  levelOffset: number,
): number {
  const max = signedAbsMax(x, xOffset, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    levels.fill(0, levelOffset, levelOffset + n);
    return 0;
  }
  let iscale = fr(-nmax / max);
  let sumLX = 0;
  let sumL2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i];
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * xi))));
    levels[levelOffset + i] = l + nmax;
    const w = fr(xi * xi);
    sumLX = fr(sumLX + fr(fr(w * xi) * l));
    sumL2 = fr(sumL2 + fr(fr(w * l) * l));
  }
  let scale = sumL2 ? fr(sumLX / sumL2) : 0;
  let best = fr(scale * sumLX);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(RDELTA_STEP * is)) / max);
    sumLX = 0;
    sumL2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xOffset + i];
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * xi))));
      const w = fr(xi * xi);
      sumLX = fr(sumLX + fr(fr(w * xi) * l));
      sumL2 = fr(sumL2 + fr(fr(w * l) * l));
    }
    if (sumL2 > 0 && fr(sumLX * sumLX) > fr(best * sumL2)) {
      for (let i = 0; i < n; i++) {
        const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * x[xOffset + i]))));
        levels[levelOffset + i] = l + nmax;
      }
      scale = fr(sumLX / sumL2);
      best = fr(scale * sumLX);
    }
  }
  return scale;
}


/** makeQ3Quants scratch: signed codes */
const q3Levels = new Int8Array(16);

/**
 * `make_q3_quants(n, nmax, x, L, do_rmse = true)` (Q3_K's sub-block fit): codes l in [−nmax, nmax)
 * from iscale = −nmax/max, then up to 5 passes moving single codes while the weighted (x²) fit
 * Σlx²/Σl² improves. Every f32 operation rounded as in C.
 *
 * @param levels out: codes + nmax at `levels[levelOffset..]`
 * @returns scale (signed, like max)
 */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xOffset: number, levels: Uint8Array, levelOffset: number): number {
  const max = signedAbsMax(x, xOffset, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    levels.fill(0, levelOffset, levelOffset + n);
    return 0;
  }
  const iscale = fr(-nmax / max);
  let sumLX = 0;
  let sumL2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i];
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * xi))));
    q3Levels[i] = l;
    const w = fr(xi * xi);
    sumLX = fr(sumLX + fr(fr(w * xi) * l));
    sumL2 = fr(sumL2 + fr(fr(w * l) * l));
  }
  for (let pass = 0; pass < 5; pass++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xOffset + i];
      const w = fr(xi * xi);
      const li = q3Levels[i];
      let slx = fr(sumLX - fr(fr(w * xi) * li));
      if (!(slx > 0)) continue;
      let sl2 = fr(sumL2 - fr(fr(w * li) * li));
      const newL = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(fr(xi * sl2) / slx))));
      if (newL === li) continue;
      slx = fr(slx + fr(fr(w * xi) * newL));
      sl2 = fr(sl2 + fr(fr(w * newL) * newL));
      if (sl2 > 0 && fr(fr(slx * slx) * sumL2) > fr(fr(sumLX * sumLX) * sl2)) {
        q3Levels[i] = newL;
        sumLX = slx;
        sumL2 = sl2;
        nChanged++;
      }
    }
    if (!nChanged) break;
  }
  for (let i = 0; i < n; i++) levels[levelOffset + i] = q3Levels[i] + nmax;
  return sumL2 > 0 ? fr(sumLX / sumL2) : 0;
}
