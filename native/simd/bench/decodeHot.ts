/**
 * Decode (1-token) matmul from cache vs from DRAM, to tell compute-bound from memory-bound
 * kernels (not a test), and packed weights beside the file's order where the path packs them:
 * npx tsx native/simd/bench/decodeHot.ts [--types q4_0,q8_0]
 */
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { loadNative } from "../../../src/engine/native/loadNative.js";
import { PACKED_TYPE_FLAG, type NativeWeightType } from "../../../src/engine/native/addonTypes.js";

const addon = loadNative()!;
const args = process.argv.slice(2);
const typesArg = args.indexOf("--types");
const types = (typesArg >= 0 ? args[typesArg + 1] : "q4_0,q8_0,f16").split(",").map((n) => GgmlType[n.toUpperCase() as keyof typeof GgmlType]);
function weights(type: GgmlType, nCols: number, nRows: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
  let s = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; bytes[i] = s >>> 24; }
  const bb = rowBytes(type, 32);
  if (type === GgmlType.Q4_K) for (let b = 0; b < bytes.length; b += 144) { bytes[b] = 0; bytes[b + 1] = 0x14; bytes[b + 2] = 0; bytes[b + 3] = 0x14; }
  else if (type === GgmlType.Q6_K) for (let b = 0; b < bytes.length; b += 210) { bytes[b + 208] = 0; bytes[b + 209] = 0x14; }
  else if (type !== GgmlType.F16) for (let b = 0; b < bytes.length; b += bb) { bytes[b] = 0; bytes[b + 1] = 0x14; }
  else for (let i = 1; i < bytes.length; i += 2) bytes[i] = 0x14;
  return bytes;
}
const nCols = 2048, nRows = 2048;
/** one-token calls on `hot` (cache-resident) and on `cold` (a set larger than the caches, from DRAM): best of 20 rounds, µs */
function time(type: number, hot: Uint8Array, cold: readonly Uint8Array[], x: Float32Array, out: Float32Array) {
  const best = { hot: Infinity, cold: Infinity };
  for (let round = 0; round < 20; round++) {
    let t0 = performance.now();
    for (let i = 0; i < 50; i++) addon.matmul(out, hot, type as NativeWeightType, x, nCols, nRows, 1);
    best.hot = Math.min(best.hot, (performance.now() - t0) / 50);
    t0 = performance.now();
    for (const w of cold) addon.matmul(out, w, type as NativeWeightType, x, nCols, nRows, 1);
    best.cold = Math.min(best.cold, (performance.now() - t0) / cold.length);
  }
  return best;
}
for (const type of types) {
  const hot = weights(type, nCols, nRows, 1);
  const cold = Array.from({ length: Math.ceil((512 << 20) / hot.length) }, (_, i) => weights(type, nCols, nRows, i + 2));
  const x = new Float32Array(nCols).map((_, i) => Math.sin(i));
  const out = new Float32Array(nRows);
  // the same weights packed for the kernel (addon.pack: Q4_0 and IQ4_NL on AVX-512), when the path packs them
  const packedHot = addon.pack?.(hot, type as NativeWeightType, nCols, nRows);
  const packed = packedHot ? { hot: packedHot, cold: cold.map((w) => addon.pack!(w, type as NativeWeightType, nCols, nRows)!) } : undefined;
  for (const threads of [1, 2]) {
    addon.setThreads(threads);
    const gbs = (ms: number) => (hot.length / ms / 1e6).toFixed(1);
    const line = (label: string, best: { hot: number; cold: number }) =>
      console.log(`${label} ${threads} thr: hot ${(best.hot * 1000).toFixed(0)} µs (${gbs(best.hot)} GB/s), DRAM ${(best.cold * 1000).toFixed(0)} µs (${gbs(best.cold)} GB/s)`);
    line(GgmlType[type], time(type, hot, cold, x, out));
    if (packed) line(`${GgmlType[type]} packed`, time(type | PACKED_TYPE_FLAG, packed.hot, packed.cold, x, out));
  }
}
