/**
 * The native attention alone (not a test): one query at a position over a KV cache of random
 * halves, as a decode step calls it, or a prompt's batch from position 0. µs per layer (ms for a
 * prompt), median and best of the repetitions.
 *   hot:    one layer again and again (its K and V from the caches: 2.4 MB for the 7B shape at 150)
 *   cold:   32 layers, after reading 256 MB, as a decode step finds them after its matmuls
 *   prompt: a --prompt-tokens batch from position 0, one layer
 *   npx tsx native/simd/bench/attention.ts [--mode hot|cold|prompt] [--heads 32] [--kv-heads 32]
 *     [--head-dim 128] [--position 150] [--prompt-tokens 128] [--threads 2] [--reps 30]
 */
import { parseArgs } from "node:util";
import { KvCache } from "../../../src/engine/model/kvCache.js";
import { loadNative } from "../../../src/engine/native/loadNative.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "cold" },
    heads: { type: "string", default: "32" },
    "kv-heads": { type: "string", default: "32" },
    "head-dim": { type: "string", default: "128" },
    position: { type: "string", default: "150" },
    "prompt-tokens": { type: "string", default: "128" },
    threads: { type: "string", default: "2" },
    reps: { type: "string", default: "30" },
  },
});
const nHead = Number(values.heads);
const nHeadKv = Number(values["kv-heads"]);
const headDim = Number(values["head-dim"]);
const mode = values.mode ?? "cold";
if (!["hot", "cold", "prompt"].includes(mode)) throw new Error(`--mode ${mode}: hot, cold or prompt`);
const nTokens = mode === "prompt" ? Number(values["prompt-tokens"]) : 1;
const position = mode === "prompt" ? 0 : Number(values.position);
const reps = Number(values.reps);
const maxPositions = 2 * (position + nTokens) + 64;

const addon = loadNative();
if (!addon) throw new Error("the native addon does not load");
addon.setThreads(Number(values.threads));

/** A layer's cache holding position + nTokens positions of random halves. */
function filledLayer(seed: number): { keys: Uint16Array; values: Uint16Array } {
  const nKv = nHeadKv * headDim;
  const n = (position + nTokens) * nKv;
  const random = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + k * 104729 + i) * 0.5);
  const cache = new KvCache(nKv, maxPositions, "f16");
  cache.store(0, 0, position + nTokens, random(1), random(2));
  return cache.raw(0) as { keys: Uint16Array; values: Uint16Array };
}

const layers = Array.from({ length: mode === "cold" ? 32 : 1 }, (_, i) => filledLayer(i));
const q = Float32Array.from({ length: nTokens * nHead * headDim }, (_, i) => Math.cos(i) * 0.5);
const out = new Float32Array(q.length);
const evict = new Float64Array(32 << 20); // 256 MB: more than the caches and the TLBs cover
const call = (layer: { keys: Uint16Array; values: Uint16Array }) =>
  addon.attention(out, q, layer.keys, layer.values, position, nTokens, nHead, nHeadKv, headDim, maxPositions);

const times: number[] = [];
for (let rep = -2; rep < reps; rep++) {
  if (mode === "cold") {
    let sum = 0;
    for (let i = 0; i < evict.length; i += 8) sum += evict[i];
    if (sum !== 0) throw new Error("unreachable");
  }
  const start = performance.now();
  const nCalls = mode === "hot" ? 100 : 1;
  for (let c = 0; c < nCalls; c++) for (const layer of layers) call(layer);
  const perLayerMs = (performance.now() - start) / (nCalls * layers.length);
  if (rep >= 0) times.push(perLayerMs);
}
times.sort((a, b) => a - b);
const unit = mode === "prompt" ? 1 : 1000;
const label = mode === "prompt" ? "ms" : "µs";
console.log(
  `attention ${mode}: ${nHead} heads, ${nHeadKv} KV heads, headDim ${headDim}, ${mode === "prompt" ? `${nTokens} tokens` : `position ${position}`}, ${values.threads} threads: ` +
    `median ${(times[times.length >> 1] * unit).toFixed(1)} ${label} per layer, best ${(times[0] * unit).toFixed(1)}`,
);
