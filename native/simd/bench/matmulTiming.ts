/**
 * Quick timing of the native matmul (not a test): decode (1 token) and a 128-token prefill for
 * TinyLlama-shaped layers (2048×2048 and 5632×2048) in Q4_0, Q8_0 and F16, with 1 and 2 threads.
 * "stream" cycles through ≥ 512 MB of distinct weights so that they come from DRAM, as in a real
 * decode step; GB/s = weight bytes read per second.
 *
 * Thread counts alternate round by round, and min and median are reported, because other
 * processes on a small machine make single measurements unreliable.
 *
 *   npx tsx native/simd/bench/matmulTiming.ts [--isa avx2] [--min-ms 300] [--types q8_0,q5_0]
 */
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { loadNative, nativeLoadFailure } from "../../../src/engine/native/loadNative.js";
import type { NativeIsa, NativeWeightType } from "../../../src/engine/native/addonTypes.js";

const addon = loadNative();
if (!addon) throw new Error(nativeLoadFailure()?.message ?? "native addon unavailable");
const args = process.argv.slice(2);
const isaArg = args.indexOf("--isa");
if (isaArg >= 0) addon.setIsa(args[isaArg + 1] as NativeIsa);
const minMsArg = args.indexOf("--min-ms");
const MIN_MS = minMsArg >= 0 ? Number(args[minMsArg + 1]) : 300;
const STREAM_BYTES = 512 * 1024 * 1024;

/** Valid blocks: random codes, every f16 scale 2^-10. */
function makeWeights(type: GgmlType, nCols: number, nRows: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
  let state = seed >>> 0;
  const u32 = new Uint32Array(bytes.buffer, 0, bytes.length >>> 2);
  for (let i = 0; i < u32.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    u32[i] = state;
  }
  if (type === GgmlType.F16) {
    for (let i = 1; i < bytes.length; i += 2) bytes[i] = 0x14 | (bytes[i] & 0x80); // |values| < 2^-5
  } else if (type === GgmlType.Q4_K || type === GgmlType.Q6_K) {
    // super-block scales: Q4_K d and dmin first, Q6_K d last
    const blockBytes = rowBytes(type, 256);
    for (let b = 0; b < bytes.length; b += blockBytes) {
      for (const at of type === GgmlType.Q4_K ? [0, 2] : [208]) {
        bytes[b + at] = 0x00;
        bytes[b + at + 1] = 0x14;
      }
    }
  } else {
    // every block starts with its f16 scale d (Q4_1/Q5_1: then the f16 min m)
    const blockBytes = rowBytes(type, 32);
    for (let b = 0; b < bytes.length; b += blockBytes) {
      bytes[b] = 0x00;
      bytes[b + 1] = 0x14;
      if (type === GgmlType.Q4_1 || type === GgmlType.Q5_1) {
        bytes[b + 2] = 0x00;
        bytes[b + 3] = 0x14;
      }
    }
  }
  return bytes;
}

/** ms per call: median and min over `rounds` samples of `callsPerSample` calls each. */
interface Sample {
  readonly min: number;
  readonly median: number;
}

function summarize(samples: number[]): Sample {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
}

const shapes: Array<[number, number]> = [
  [2048, 2048],
  [2048, 5632],
];
const typesArg = args.indexOf("--types");
const types =
  typesArg >= 0
    ? args[typesArg + 1].split(",").map((name) => {
        const type = GgmlType[name.toUpperCase() as keyof typeof GgmlType];
        if (type === undefined) throw new Error(`--types: unknown type ${name}`);
        return type;
      })
    : [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.F16];
const THREADS = [1, 2];
const N_PREFILL = 128;
const ROUNDS = Math.max(5, Math.round(MIN_MS / 20));
console.log(`isa ${addon.capabilities().isa}, compiler ${addon.capabilities().compiler}; ${ROUNDS} rounds alternating thread counts, min / median`);
console.log("type  nCols×nRows  threads  decode µs (DRAM)     decode GB/s   prefill-128 ms      prefill GOP/s");
for (const type of types) {
  for (const [nCols, nRows] of shapes) {
    const matrixBytes = rowBytes(type, nCols) * nRows;
    const nCopies = Math.max(2, Math.ceil(STREAM_BYTES / matrixBytes));
    const copies = Array.from({ length: nCopies }, (_, i) => makeWeights(type, nCols, nRows, i + 1));
    const x1 = new Float32Array(nCols).map((_, i) => Math.sin(i));
    const out1 = new Float32Array(nRows);
    const xp = new Float32Array(nCols * N_PREFILL).map((_, i) => Math.sin(i * 0.37));
    const outp = new Float32Array(nRows * N_PREFILL);
    const decode = new Map<number, number[]>(THREADS.map((t) => [t, []]));
    const prefill = new Map<number, number[]>(THREADS.map((t) => [t, []]));
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const threads of THREADS) {
        addon.setThreads(threads);
        const calls = Math.min(nCopies, 64);
        let start = performance.now();
        for (let i = 0; i < calls; i++) {
          addon.matmul(out1, copies[next], type as NativeWeightType, x1, nCols, nRows, 1);
          next = (next + 1) % nCopies;
        }
        decode.get(threads)!.push((performance.now() - start) / calls);
        start = performance.now();
        addon.matmul(outp, copies[0], type as NativeWeightType, xp, nCols, nRows, N_PREFILL);
        prefill.get(threads)!.push(performance.now() - start);
      }
    }
    for (const threads of THREADS) {
      const d = summarize(decode.get(threads)!);
      const p = summarize(prefill.get(threads)!);
      const gbs = (ms: number) => (matrixBytes / (ms * 1e6)).toFixed(1);
      const gops = (ms: number) => ((2 * nCols * nRows * N_PREFILL) / (ms * 1e6)).toFixed(0);
      console.log(
        `${GgmlType[type].padEnd(5)} ${`${nCols}×${nRows}`.padEnd(12)} ${String(threads).padStart(7)}  ${`${(d.min * 1000).toFixed(0)} / ${(d.median * 1000).toFixed(0)}`.padStart(17)}  ${`${gbs(d.min)} / ${gbs(d.median)}`.padStart(12)}  ${`${p.min.toFixed(2)} / ${p.median.toFixed(2)}`.padStart(15)}  ${`${gops(p.min)} / ${gops(p.median)}`.padStart(17)}`,
      );
    }
  }
}
