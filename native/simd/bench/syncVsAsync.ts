/**
 * Sync or async across the JS ↔ addon boundary (issue 3: "the JS side stays synchronous per layer
 * or uses one async call per layer — measure which is faster"). Not a test; prints a table.
 *
 * 1. Per-call overhead: a tiny matmul (Q4_0, 16 × 2048, one token: ≈ 1 µs of work) called
 *    synchronously vs `await matmulAsync(…)` (napi AsyncWorker: libuv thread pool, promise
 *    settled on the JS thread).
 * 2. One TinyLlama decode layer's seven matmuls (q, k, v, o: 2048 → 2048/256/256/2048; gate, up:
 *    2048 → 5632; down: 5632 → 2048), weights cycled through ≥ 512 MB of copies so they come from
 *    DRAM as in a real decode step, three ways:
 *    - sync: seven synchronous calls (the engine's path);
 *    - async per call: each call awaited;
 *    - async per layer: the seven queued at once and awaited together — one round trip per
 *      layer, an upper bound on what a single async call per layer could save (the calls still
 *      run one after another: the addon serializes them).
 *
 *   npx tsx native/simd/bench/syncVsAsync.ts [--type q4_0|q8_0] [--threads N] [--rounds N]
 */
import { parseArgs } from "node:util";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { loadNative, nativeLoadFailure } from "../../../src/engine/native/loadNative.js";
import type { NativeWeightType } from "../../../src/engine/native/addonTypes.js";

const addon = loadNative();
if (!addon) throw new Error(nativeLoadFailure()?.message ?? "native addon unavailable");
const matmulAsync = addon.matmulAsync?.bind(addon);
if (!matmulAsync) throw new Error("this build of the addon has no matmulAsync (rebuild: node native/simd/install.mjs)");

const { values } = parseArgs({ options: { type: { type: "string", default: "q4_0" }, threads: { type: "string", default: "2" }, rounds: { type: "string", default: "30" } } });
const type = values.type === "q8_0" ? GgmlType.Q8_0 : GgmlType.Q4_0;
const nRounds = Math.max(3, Number(values.rounds));
addon.setThreads(Number(values.threads));
const STREAM_BYTES = 512 * 1024 * 1024;

/** Valid blocks: pseudo-random codes, every f16 scale 2^-10. */
function makeWeights(nCols: number, nRows: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
  let state = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  const blockBytes = type === GgmlType.Q4_0 ? 18 : 34;
  for (let b = 0; b < bytes.length; b += blockBytes) {
    bytes[b] = 0x00;
    bytes[b + 1] = 0x14;
  }
  return bytes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wt = type as NativeWeightType;

// 1. per-call overhead
{
  const nCols = 2048;
  const nRows = 16;
  const w = makeWeights(nCols, nRows, 1);
  const x = new Float32Array(nCols).map((_, i) => Math.sin(i));
  const out = new Float32Array(nRows);
  const nCalls = 2000;
  const sync: number[] = [];
  const async: number[] = [];
  for (let round = 0; round < nRounds; round++) {
    let start = performance.now();
    for (let i = 0; i < nCalls; i++) addon.matmul(out, w, wt, x, nCols, nRows, 1);
    sync.push(((performance.now() - start) * 1000) / nCalls);
    start = performance.now();
    for (let i = 0; i < nCalls; i++) await matmulAsync(out, w, wt, x, nCols, nRows, 1);
    async.push(((performance.now() - start) * 1000) / nCalls);
  }
  console.log(`${GgmlType[type]}, ${addon.capabilities().threads} threads, ${nRounds} rounds alternating, medians`);
  console.log(`per call, tiny matmul (16 × 2048, 1 token): sync ${median(sync).toFixed(2)} µs, async ${median(async).toFixed(2)} µs → async costs ${(median(async) - median(sync)).toFixed(1)} µs more per call`);
}

// 2. one decode layer
{
  const nEmbd = 2048;
  const nFf = 5632;
  const shapes: Array<[nCols: number, nRows: number]> = [[nEmbd, nEmbd], [nEmbd, 256], [nEmbd, 256], [nEmbd, nEmbd], [nEmbd, nFf], [nEmbd, nFf], [nFf, nEmbd]];
  const layerBytes = shapes.reduce((n, [c, r]) => n + rowBytes(type, c) * r, 0);
  const nCopies = Math.max(2, Math.ceil(STREAM_BYTES / layerBytes));
  const layers = Array.from({ length: nCopies }, (_, l) => shapes.map(([c, r], i) => makeWeights(c, r, 100 * l + i)));
  const xs = shapes.map(([c]) => new Float32Array(c).map((_, i) => Math.sin(i * 0.3)));
  const outs = shapes.map(([, r]) => new Float32Array(r));
  let next = 0;
  const layerSync = () => {
    const ws = layers[(next = (next + 1) % nCopies)];
    shapes.forEach(([c, r], i) => addon.matmul(outs[i], ws[i], wt, xs[i], c, r, 1));
  };
  const layerAsyncEach = async () => {
    const ws = layers[(next = (next + 1) % nCopies)];
    for (let i = 0; i < shapes.length; i++) await matmulAsync(outs[i], ws[i], wt, xs[i], shapes[i][0], shapes[i][1], 1);
  };
  const layerAsyncOnce = async () => {
    const ws = layers[(next = (next + 1) % nCopies)];
    await Promise.all(shapes.map(([c, r], i) => matmulAsync(outs[i], ws[i], wt, xs[i], c, r, 1)));
  };
  const timings = { sync: [] as number[], asyncEach: [] as number[], asyncOnce: [] as number[] };
  const layersPerSample = 22;
  for (let round = 0; round < nRounds; round++) {
    let start = performance.now();
    for (let l = 0; l < layersPerSample; l++) layerSync();
    timings.sync.push(((performance.now() - start) * 1000) / layersPerSample);
    start = performance.now();
    for (let l = 0; l < layersPerSample; l++) await layerAsyncEach();
    timings.asyncEach.push(((performance.now() - start) * 1000) / layersPerSample);
    start = performance.now();
    for (let l = 0; l < layersPerSample; l++) await layerAsyncOnce();
    timings.asyncOnce.push(((performance.now() - start) * 1000) / layersPerSample);
  }
  const s = median(timings.sync);
  const line = (name: string, us: number) => `  ${name.padEnd(16)} ${us.toFixed(0).padStart(6)} µs/layer  (${us >= s ? "+" : ""}${(((us - s) / s) * 100).toFixed(1)}% vs sync; ${(((layerBytes / us) * 1e6) / 1e9).toFixed(1)} GB/s)`;
  console.log(`one TinyLlama decode layer (7 matmuls, ${(layerBytes / 2 ** 20).toFixed(1)} MiB of ${GgmlType[type]} weights from DRAM):`);
  console.log(line("sync", s));
  console.log(line("async per call", median(timings.asyncEach)));
  console.log(line("async per layer", median(timings.asyncOnce)));
}
