/**
 * Read-ahead (ThreadPool::setReadAhead) on and off, in fresh processes that alternate (not a
 * test): a TinyLlama-shaped decode step's sequence of packed Q4_0 one-token matmuls (~520 MiB,
 * from DRAM) with busy gaps after them where a real step runs RoPE, attention, norms and
 * JavaScript (1.8 ms in all). Reports the median step of each process.
 *   npx tsx native/simd/bench/readAhead.ts [--rounds 3]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { loadNative } from "../../../src/engine/native/loadNative.js";
import { PACKED_TYPE_FLAG, type NativeWeightType } from "../../../src/engine/native/addonTypes.js";

/** [nCols, nRows, gap µs after] of one layer: q, k, v (then RoPE and attention), o (norm), gate, up (SiLU), down (norm) */
const LAYER: ReadonlyArray<readonly [number, number, number]> = [[2048, 2048, 1], [2048, 256, 1], [2048, 256, 40], [2048, 2048, 10], [2048, 5632, 1], [2048, 5632, 5], [5632, 2048, 25]];

function step(): void {
  const addon = loadNative();
  if (!addon?.pack) throw new Error("the native addon does not load, or cannot pack");
  const type = GgmlType.Q4_0;
  const shapes = Array.from({ length: 22 }, () => LAYER).flat();
  const weights = shapes.map(([nCols, nRows], i) => {
    const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
    for (let j = 0; j < bytes.length; j += 18) bytes.set([0, 0x14, i & 0xff], j);
    return addon.pack!(bytes, type as NativeWeightType, nCols, nRows) ?? bytes;
  });
  const packedType = (addon.pack(weights[0], type as NativeWeightType, 2048, 2048) ? type | PACKED_TYPE_FLAG : type) as NativeWeightType;
  const x = new Float32Array(5632).map((_, i) => Math.sin(i));
  const out = new Float32Array(5632);
  addon.setThreads(2);
  const busy = (micros: number) => { const until = performance.now() + micros / 1000; while (performance.now() < until); };
  const times: number[] = [];
  for (let rep = 0; rep < 21; rep++) {
    const t0 = performance.now();
    shapes.forEach(([nCols, nRows, gap], i) => { addon.matmul(out, weights[i], packedType, x, nCols, nRows, 1); busy(gap); });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${times[10]}\n`);
}

if (process.argv[2] === "--child") step();
else {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 3;
  const self = fileURLToPath(import.meta.url);
  const run = (readAhead: string) => Number(execFileSync("npx", ["tsx", self, "--child"], { env: { ...process.env, LAYERSTREAM_READ_AHEAD: readAhead }, encoding: "utf8" }));
  const on: number[] = [], off: number[] = [];
  for (let round = 0; round < rounds; round++) { off.push(run("0")); on.push(run("1")); }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`decode-shaped step, packed Q4_0, 2 threads, 1.8 ms of gaps: read-ahead off ${off.map((t) => t.toFixed(2)).join(", ")} ms; on ${on.map((t) => t.toFixed(2)).join(", ")} ms; medians ${median(off).toFixed(2)} → ${median(on).toFixed(2)} ms (${(median(off) / median(on)).toFixed(2)}×)`);
}
