/**
 * Weight memory with and without 2 MiB pages (LAYERSTREAM_HUGE_PAGES), in fresh processes that
 * alternate (not a test): decode-shaped sequences of one-token matmuls over weights in the memory
 * the engine keeps them in — 4 llama-7B-shaped layers of packed Q4_0 (~450 MiB), or 8
 * TinyLlama-shaped layers of F16 resident copies (~700 MiB), both far beyond the last-level cache.
 * Reports each process's median pass in GB/s.
 *   npx tsx native/simd/bench/hugePages.ts [--type q4_0|f16] [--rounds 3]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { loadNative } from "../../../src/engine/native/loadNative.js";
import { PACKED_TYPE_FLAG, type NativeWeightType } from "../../../src/engine/native/addonTypes.js";

/** [nCols, nRows] of one layer's q, k, v, o, gate, up, down */
const LAYER_7B: ReadonlyArray<readonly [number, number]> = [[4096, 4096], [4096, 4096], [4096, 4096], [4096, 4096], [4096, 11008], [4096, 11008], [11008, 4096]];
const LAYER_TINY: ReadonlyArray<readonly [number, number]> = [[2048, 2048], [2048, 256], [2048, 256], [2048, 2048], [2048, 5632], [2048, 5632], [5632, 2048]];

/** One process: the weights laid out as the engine holds them, 15 passes, the median's GB/s on stdout. */
function measure(typeName: string): void {
  const addon = loadNative();
  if (!addon?.pack || !addon.residentCopy) throw new Error("the native addon does not load, or lacks pack/residentCopy");
  const f16 = typeName === "f16";
  const type = f16 ? GgmlType.F16 : GgmlType.Q4_0;
  const shapes = f16 ? Array.from({ length: 8 }, () => LAYER_TINY).flat() : Array.from({ length: 4 }, () => LAYER_7B).flat();
  let packed = false;
  const weights = shapes.map(([nCols, nRows], i) => {
    const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
    for (let j = 0; j < bytes.length; j += 2) bytes.set([(i + j) & 0x3f, 0x14], j);
    const laidOut = addon.pack!(bytes, type as NativeWeightType, nCols, nRows);
    packed = laidOut !== null;
    return laidOut ?? addon.residentCopy!(bytes);
  });
  const matmulType = (packed ? type | PACKED_TYPE_FLAG : type) as NativeWeightType;
  const x = new Float32Array(11008).map((_, i) => Math.sin(i));
  const out = new Float32Array(11008);
  addon.setThreads(2);
  const nBytes = weights.reduce((n, w) => n + w.byteLength, 0);
  const seconds: number[] = [];
  for (let rep = 0; rep < 15; rep++) {
    const t0 = performance.now();
    shapes.forEach(([nCols, nRows], i) => addon.matmul(out, weights[i], matmulType, x, nCols, nRows, 1));
    seconds.push((performance.now() - t0) / 1000);
  }
  seconds.sort((a, b) => a - b);
  process.stdout.write(`${nBytes / seconds[7] / 1e9}\n`);
}

const { values } = parseArgs({ options: { type: { type: "string", default: "q4_0" }, rounds: { type: "string", default: "3" }, child: { type: "boolean", default: false } } });
if (values.type !== "q4_0" && values.type !== "f16") throw new Error(`--type: ${values.type} is not q4_0 or f16`);
if (values.child) measure(values.type);
else {
  const self = fileURLToPath(import.meta.url);
  const run = (huge: string) => Number(execFileSync("npx", ["tsx", self, "--child", "--type", values.type!], { env: { ...process.env, LAYERSTREAM_HUGE_PAGES: huge }, encoding: "utf8" }));
  const off: number[] = [], on: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) { off.push(run("0")); on.push(run("1")); }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const list = (v: number[]) => v.map((g) => g.toFixed(1)).join(", ");
  console.log(`${values.type}, one-token matmuls, 2 threads: 4 KiB pages ${list(off)} GB/s; 2 MiB pages ${list(on)} GB/s; medians ${median(off).toFixed(1)} → ${median(on).toFixed(1)} GB/s (${(median(on) / median(off)).toFixed(2)}×)`);
}
