/**
 * npm run bench:flash -- [--reps N] [--pairs N]
 *
 * Flash attention (`--flash-attn`, llama.cpp's CPU numerics) against the classic path, in the
 * native addon and end to end, to decide the default and to show the attention memory:
 * 1. one attention call, classic then flash, interleaved (--reps each, medians): decode at
 *    several positions and prompt batches, for TinyLlama-1.1B's heads (32 query, 4 KV, 64 wide)
 *    and Llama-2-7B's (32 and 32, 128 wide);
 * 2. the scratch each path's threads keep: a fresh process per path grows its pool's buffers with
 *    one decode call at a long context, and reports the growth of its resident memory;
 * 3. `layerstream generate` on the TinyLlama-shaped Q4_0 file, --flash-attn on and off in
 *    alternating pairs (--pairs): prefill and decode tok/s, the median of the per-pair ratios.
 * Results go to the "flash-attention" section of docs/BENCHMARKS.md.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { KvCache } from "../../src/engine/model/kvCache.js";
import { loadNative } from "../../src/engine/native/loadNative.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, tinyLlamaShape } from "./benchModels.js";
import { runGenerate } from "./runGenerate.js";
import { writeSection } from "./report.js";
import { median } from "./speedReport.js";

const { values } = parseArgs({ options: { reps: { type: "string", default: "15" }, pairs: { type: "string", default: "5" }, "scratch-child": { type: "string" } } });
const THREADS = 2;
const log = (line: string) => process.stderr.write(`bench:flash: ${line}\n`);
const addon = loadNative();
if (!addon) throw new Error("bench:flash needs the native addon");
addon.setThreads(THREADS);

interface Heads {
  readonly name: string;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
}
const HEADS: readonly Heads[] = [
  { name: "TinyLlama-1.1B (32/4 heads × 64)", nHead: 32, nHeadKv: 4, headDim: 64 },
  { name: "Llama-2-7B (32/32 heads × 128)", nHead: 32, nHeadKv: 32, headDim: 128 },
];
/** [position, nTokens]: decode at growing positions, then prompt batches from position 0 */
const CALLS: ReadonlyArray<readonly [number, number]> = [[127, 1], [511, 1], [2047, 1], [8191, 1], [0, 128], [0, 512]];

/** A cache filled to position + nTokens, a query, and both calls on it. */
function attentionCalls(heads: Heads, position: number, nTokens: number, contextSize: number) {
  const { nHead, nHeadKv, headDim } = heads;
  const nPositions = position + nTokens;
  const cache = new KvCache(nHeadKv * headDim, contextSize, "f16");
  const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  cache.store(0, 0, nPositions, random(nPositions * nHeadKv * headDim), random(nPositions * nHeadKv * headDim));
  const q = random(nTokens * nHead * headDim);
  const out = new Float32Array(nTokens * nHead * headDim);
  const { keys, values: vals } = cache.raw(0) as { keys: Uint16Array; values: Uint16Array };
  const scale = Math.fround(1 / Math.sqrt(headDim));
  return {
    classic: () => void addon!.attention(out, q, keys, vals, position, nTokens, nHead, nHeadKv, headDim, contextSize),
    flash: () => addon!.flashAttention(out, q, keys, vals, position, nTokens, nHead, nHeadKv, headDim, contextSize, scale, 0, THREADS),
  };
}

function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Section 1: medians of interleaved single calls. */
function opTable(reps: number): string {
  const rows = ["| heads | call | classic ms | flash ms | flash ÷ classic |", "| --- | --- | ---: | ---: | ---: |"];
  for (const heads of HEADS) {
    for (const [position, nTokens] of CALLS) {
      const calls = attentionCalls(heads, position, nTokens, 16384);
      calls.classic();
      calls.flash();
      const classic: number[] = [];
      const flash: number[] = [];
      for (let r = 0; r < reps; r++) {
        classic.push(timeMs(calls.classic));
        flash.push(timeMs(calls.flash));
      }
      const label = nTokens === 1 ? `decode at position ${position}` : `${nTokens}-token prompt`;
      rows.push(`| ${heads.name} | ${label} | ${median(classic).toFixed(3)} | ${median(flash).toFixed(3)} | ${(median(flash) / median(classic)).toFixed(2)}× |`);
      log(rows.at(-1)!);
    }
  }
  return rows.join("\n");
}

/** Section 2 (child side): RSS growth of one decode call of one path at a long context. */
function scratchChild(path: string): void {
  const contextSize = 131072;
  const calls = attentionCalls(HEADS[0], contextSize - 1, 1, contextSize);
  const before = process.memoryUsage().rss;
  (path === "flash" ? calls.flash : calls.classic)();
  process.stdout.write(`${process.memoryUsage().rss - before}\n`);
}

function scratchTable(): string {
  const growth = (path: string) => Number(execFileSync(process.execPath, ["--import", "tsx", import.meta.filename, "--scratch-child", path], { encoding: "utf8" }).trim());
  const classic = growth("classic");
  const flash = growth("flash");
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  return [
    "| path | resident memory added by one decode call at position 131,071 (TinyLlama heads, 2 threads) |",
    "| --- | ---: |",
    `| classic | ${kib(classic)} |`,
    `| flash | ${kib(flash)} |`,
  ].join("\n");
}

/** Section 3: generate on/off in pairs; median of per-pair ratios. */
async function endToEnd(pairs: number): Promise<string> {
  const model = await ensureBenchModel("tinyllama-shape-Q4_0.gguf", tinyLlamaShape(GgmlType.Q4_0), log);
  const prompt = Array(16).fill("the little girl saw a big red ball").join(" ");
  const run = (fa: string) => runGenerate(["--model", model, "--prompt", prompt, "-n", "33", "--temperature", "0", "--ignore-eos", "--threads", String(THREADS), "--ctx-size", "512", "--flash-attn", fa, "--stats-json"]);
  const prefill: number[] = [];
  const decode: number[] = [];
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const on = await run("on");
    const off = await run("off");
    prefill.push(on.promptTokensPerSecond / off.promptTokensPerSecond);
    decode.push(on.generatedTokensPerSecond / off.generatedTokensPerSecond);
    lines.push(`- pair ${i + 1}: prefill ${on.promptTokensPerSecond.toFixed(1)} / ${off.promptTokensPerSecond.toFixed(1)} tok/s, decode ${on.generatedTokensPerSecond.toFixed(2)} / ${off.generatedTokensPerSecond.toFixed(2)} tok/s (on / off)`);
    log(lines.at(-1)!);
  }
  return [`Median of the per-pair ratios (on ÷ off, ${pairs} pairs, ${prefill.length ? "prompt 385 tokens, 32 decoded" : ""}): **prefill ${median(prefill).toFixed(2)}×, decode ${median(decode).toFixed(2)}×**.`, "", ...lines].join("\n");
}

if (values["scratch-child"]) {
  scratchChild(values["scratch-child"]);
} else {
  const machine = describeMachine(await machineFacts());
  const ops = opTable(Number(values.reps));
  const scratch = scratchTable();
  const e2e = await endToEnd(Number(values.pairs));
  writeSection(
    "flash-attention",
    `## Flash attention vs the classic path (\`npm run bench:flash\`)

- command: \`npm run bench:flash -- --reps ${values.reps} --pairs ${values.pairs}\`
- date: ${new Date().toISOString()}
- machine: ${machine}
- native kernels (${addon.capabilities().isa}), ${THREADS} threads. Both paths give llama.cpp's bits for their mode (\`-fa on\` / \`-fa off\`).

One attention call (median of ${values.reps} interleaved calls each):

${ops}

Attention memory: neither path builds llama.cpp's non-flash n_kv × n_tokens × n_head score matrix (llama.cpp without flash attention allocates it per layer: 32 heads × 512-token batches × a 32K context is 2 GiB of f32); the classic path keeps one row of scores per head of its task (it grows with the context), flash attention a fixed block:

${scratch}

End to end, \`layerstream generate\` on \`tinyllama-shape-Q4_0.gguf\`, --flash-attn on and off alternating:

${e2e}
`,
  );
}
