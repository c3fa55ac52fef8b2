/**
 * Scale searches used by the K-quant reference quantizers (ggml-quants.c `make_qkx2_quants`,
 * `make_qx_quants`), with every f32 operation rounded as in C (no FMA contraction, left-to-right).
 */
import { nearestInt } from "./scalar.js";

const fr = Math.fround;
const GROUP_MAX_EPS = fr(1e-15);
const RDELTA_STEP = fr(0.1);

/**
 * Asymmetric search (`make_qkx2_quants`): finds scale and min so that x ≈ scale*L - theMin with
 * L in [0, nmax], minimizing the weighted squared (or absolute, `useMad`) error over `nstep + 1`
 * candidate inverse scales `(rmin + rdelta*is + nmax) / (max - min)`.
 *
 * @param x f32 [n] at `x[xOffset..]`
 * @param weights f32 [n]
 * @param levels out: chosen codes at `levels[levelOffset..]`
 * @param levelsAux scratch of n codes
 * @param minOut out: `minOut[0]` = theMin (≥ 0, the negated minimum)
 * @returns scale
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xOffset: number,
  weights: Float32Array,
  levels: Uint8Array,
  levelOffset: number,
  levelsAux: Uint8Array,
  minOut: Float32Array,
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): number {
  let min = x[xOffset];
  let max = x[xOffset];
  let sumW = weights[0];
  let sumX = fr(sumW * x[xOffset]);
  for (let i = 1; i < n; i++) {
    const xi = x[xOffset + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) levels[levelOffset + i] = 0;
    minOut[0] = -min;
    return 0;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i];
    const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(xi - min)))));
    levels[levelOffset + i] = l;
    let diff = fr(fr(fr(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    bestError = fr(bestError + fr(weights[i] * diff));
  }
  if (nstep < 1) {
    minOut[0] = -min;
    return scale;
  }
  const rdeltaF = fr(rdelta);
  const rminF = fr(rmin);
  for (let is = 0; is <= nstep; is++) {
    // min moves when a candidate wins, and later candidates start from it (as in ggml)
    iscale = fr(fr(fr(rminF + fr(rdeltaF * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xOffset + i];
      const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(xi - min)))));
      levelsAux[i] = l;
      const wl = fr(weights[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * xi));
    }
    const det = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (det > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / det);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / det);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fr(fr(fr(thisScale * levelsAux[i]) + thisMin) - x[xOffset + i]);
        diff = useMad ? Math.abs(diff) : fr(diff * diff);
        curError = fr(curError + fr(weights[i] * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) levels[levelOffset + i] = levelsAux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  minOut[0] = -min;
  return scale;
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
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xOffset + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xOffset + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) levels[levelOffset + i] = 0;
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
