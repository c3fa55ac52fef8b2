/**
 * npm run bench -- [--model FILE]… [--types q4_0,q8_0,f16,q4_k] [--section NAME] [--prompt-tokens N] [--threads N] [--reps N] [--tokens N] [--baseline DIR] [--no-native] [--flash-attn on|off]
 *
 * --flash-attn: flash attention for every engine (layerstream --flash-attn, node-llama-cpp
 * flashAttention, llama-bench -fa); default off, llama.cpp's classic path, as earlier runs.
 *
 * --baseline DIR: also run another build of layerstream (a checkout at DIR, built: dist/ and the
 * addon), alternating with this one and llama.cpp in the same run, to measure a change before
 * and after; results go to the "speed-baseline" section.
 *
 * --no-native: skip native llama.cpp (`llama-bench` built for this CPU from the llama.cpp source
 * node-llama-cpp bundles, once, cached outside the repository: llamaBenchNative.ts). Otherwise it
 * runs in the same rotation, a fresh process per run.
 *
 * Prefill and decode speed of layerstream (`layerstream generate`, native kernels, in a child
 * process) against llama.cpp (node-llama-cpp, CPU build, in this process; and native llama-bench,
 * a child process) on the same GGUF file, in the same run, one engine at a time, alternating each
 * repetition; medians of --reps.
 * Both engines get exactly the same prompt token ids (128, or --prompt-tokens: a long prompt
 * shows attention's share; its results go to their own section), greedy, end-of-sequence ignored.
 * Default models: TinyLlama-1.1B-shaped synthetic files in Q4_0, Q8_0, F16 and Q4_K (its output
 * head Q6_K, like a Q4_K_M download), cached outside the repository; --types picks among them
 * (also q5_k, q3_k, q2_k, iq4_nl, iq4_xs, with Q6_K heads as in their downloads, and q6_k; and
 * llama7b-q4_0, a Llama-2-7B-shaped Q4_0 file). Results go to the "speed" section of docs/BENCHMARKS.md.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import type { Llama } from "node-llama-cpp";
import { GgmlType, ggmlTypeName, rowBytes } from "../../src/engine/ggml/types.js";
import { Model } from "../../src/engine/model/model.js";
import { physicalCoreCount } from "../../src/engine/native/threads.js";
import { formatBytes } from "../../src/engine/streaming/byteSize.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, LLAMA_7B_Q4_0, tinyLlamaShape } from "./benchModels.js";
import { ensureNativeLlamaBench, llamaBenchArgs, NativeBuildError, runNativeLlamaBench, type NativeLlamaBench } from "./llamaBenchNative.js";
import { runGenerate } from "./runGenerate.js";
import { writeSection } from "./report.js";
import { boundTable, type Engine, median, medianSpeed, nativeTargetsList, perRunList, type Speed, type SpeedResult, speedTable, targetsList } from "./speedReport.js";
import { BANDWIDTH_METHOD, measureReadBandwidth } from "./memoryBandwidth.js";
import { referenceCpuBuild } from "../lib/llamaCppBuild.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true },
    threads: { type: "string" },
    reps: { type: "string", default: "3" },
    tokens: { type: "string", default: "32" },
    types: { type: "string", default: "q4_0,q8_0,f16,q4_k" },
    /** the docs/BENCHMARKS.md section to write (default: speed, or speed-prompt-N / speed-baseline) */
    section: { type: "string" },
    "prompt-tokens": { type: "string", default: "128" },
    baseline: { type: "string" },
    "no-native": { type: "boolean", default: false },
    "flash-attn": { type: "string", default: "off" },
  },
});
const BASELINE_BIN = values.baseline ? `${values.baseline.replace(/\/$/, "")}/bin/layerstream.js` : undefined;
if (BASELINE_BIN && !fs.existsSync(BASELINE_BIN)) throw new Error(`--baseline: ${BASELINE_BIN} does not exist`);
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
if (values["flash-attn"] !== "on" && values["flash-attn"] !== "off") throw new Error(`--flash-attn: ${values["flash-attn"]} is not on or off`);
const FLASH_ATTN = values["flash-attn"] === "on";

/** prompt length in tokens, BOS included */
const N_PROMPT_TOKENS = Number(values["prompt-tokens"]);
if (!Number.isInteger(N_PROMPT_TOKENS) || N_PROMPT_TOKENS < 2) throw new Error(`--prompt-tokens: ${values["prompt-tokens"]} is not an integer ≥ 2`);
const CONTEXT_SIZE = Math.max(512, 256 * Math.ceil((N_PROMPT_TOKENS + Number(values.tokens) + 2) / 256));
const nReps = Math.max(1, Number(values.reps));
/** decode steps timed per run (forward passes after the prompt) */
const nDecode = Math.max(1, Number(values.tokens));
const nThreads = values.threads ? Number(values.threads) : await physicalCoreCount();

const WORDS = ("once upon a time there was a little girl named lily she liked to play outside in the sun with her dog " +
  "one day they went to the park and saw a big tree with red apples").split(" ");

/** A text that layerstream's tokenizer turns into exactly `nTokens` ids (BOS included), and those ids. */
function buildPrompt(model: Model, nTokens: number): { text: string; tokens: number[] } {
  const encode = (text: string) => model.tokenizer.encode(text, { addSpecial: true, parseSpecial: false });
  let text = "";
  for (let i = 0; ; i++) {
    const fitting = [WORDS[i % WORDS.length], ...WORDS].map((w) => (text ? `${text} ${w}` : w)).find((t) => encode(t).length <= nTokens);
    if (fitting === undefined) break;
    text = fitting;
    if (encode(text).length === nTokens) break;
  }
  return { text, tokens: encode(text) };
}

/** Bytes of weights one decode step reads: every tensor, except one row of the token embeddings. */
function weightBytesPerToken(model: Model): number {
  let n = 0;
  for (const t of model.file.tensors) n += t.name === "token_embd.weight" ? rowBytes(t.type, t.dims[0]) : t.nBytes;
  return n;
}

/** the kernels layerstream reported in each run ("native avx512, 2 threads", …) */
const layerstreamKernels = new Set<string>();

async function runLayerstream(modelPath: string, prompt: string, nPrompt: number, bin?: string): Promise<Speed> {
  const stats = await runGenerate([
    "--model", modelPath, "--prompt", prompt, "--temperature", "0", "--ignore-eos",
    "-n", String(nDecode + 1), "--threads", String(nThreads), "--ctx-size", String(CONTEXT_SIZE), "--flash-attn", FLASH_ATTN ? "on" : "off",
  ], {}, bin);
  if (stats.promptTokens !== nPrompt) throw new Error(`layerstream saw ${stats.promptTokens} prompt tokens, expected ${nPrompt}`);
  layerstreamKernels.add(String(stats.kernels));
  if (!String(stats.kernels).startsWith("native")) log(`  warning: layerstream ran the ${String(stats.kernels)} kernels, not the native addon`);
  // generateSeconds covers nDecode forward passes (and nDecode + 1 greedy samples)
  return { prefillTokensPerSecond: stats.promptTokens / stats.promptSeconds, decodeTokensPerSecond: (stats.generatedTokens - 1) / stats.generateSeconds };
}

type LlamaModel = Awaited<ReturnType<Llama["loadModel"]>>;
type LlamaContext = Awaited<ReturnType<LlamaModel["createContext"]>>;

/** Prefill: prompt start → first greedy token; decode: first → (nDecode+1)th token, i.e. nDecode forward passes. */
async function runLlamaCpp(context: LlamaContext, tokens: readonly number[]): Promise<Speed> {
  const sequence = context.getSequence();
  try {
    const start = performance.now();
    let firstAt = 0;
    let n = 0;
    for await (const _token of sequence.evaluate(tokens as never[], { temperature: 0 })) {
      n++;
      if (n === 1) firstAt = performance.now();
      if (n === nDecode + 1) break;
    }
    const end = performance.now();
    return { prefillTokensPerSecond: tokens.length / ((firstAt - start) / 1000), decodeTokensPerSecond: nDecode / ((end - firstAt) / 1000) };
  } finally {
    await sequence.dispose();
  }
}

/** synthetic model types for --types */
const BENCH_TYPES = new Map<string, GgmlType>([
  ["q4_0", GgmlType.Q4_0],
  ["q8_0", GgmlType.Q8_0],
  ["f16", GgmlType.F16],
  ["q4_k", GgmlType.Q4_K],
  ["q5_k", GgmlType.Q5_K],
  ["q3_k", GgmlType.Q3_K],
  ["q2_k", GgmlType.Q2_K],
  ["iq4_nl", GgmlType.IQ4_NL],
  ["iq4_xs", GgmlType.IQ4_XS],
  ["q6_k", GgmlType.Q6_K],
]);
/** K-quant and IQ4 downloads (Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, IQ4_NL, IQ4_XS) keep the output head in Q6_K */
const Q6_K_HEAD_TYPES: ReadonlySet<GgmlType> = new Set([GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS]);

/** --types name of the llama-7B-shaped Q4_0 model */
const LLAMA_7B_NAME = "llama7b-q4_0";

let native: NativeLlamaBench | undefined;
if (!values["no-native"]) {
  try {
    native = await ensureNativeLlamaBench(log);
  } catch (error) {
    if (!(error instanceof NativeBuildError)) throw error;
    log(error.message);
    process.exit(1);
  }
}
const nativeOptions = { nThreads, nPromptTokens: N_PROMPT_TOKENS, nDecodeTokens: nDecode, flashAttention: FLASH_ATTN };

const modelPaths = values.model ?? [];
if (modelPaths.length === 0) {
  for (const name of values.types.split(",")) {
    if (name.trim().toLowerCase() === LLAMA_7B_NAME) {
      modelPaths.push(await ensureBenchModel("llama7b-shape", LLAMA_7B_Q4_0, log));
      continue;
    }
    const type = BENCH_TYPES.get(name.trim().toLowerCase());
    if (type === undefined) throw new Error(`--types: ${name} is not one of ${[...BENCH_TYPES.keys(), LLAMA_7B_NAME].join(", ")}`);
    const shape = Q6_K_HEAD_TYPES.has(type) ? { ...tinyLlamaShape(type), outputType: GgmlType.Q6_K } : tinyLlamaShape(type);
    // quantizing 1.1B weights to Q6_K in TypeScript takes many minutes: random blocks measure the same speed
    const spec = type === GgmlType.Q6_K ? { ...shape, randomBlocks: true } : shape;
    modelPaths.push(await ensureBenchModel("tinyllama-shape", spec, log));
  }
}

const machine = await machineFacts();
/** read bandwidth measured before each repetition of each model, bytes per second */
const bandwidths: number[] = [];

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

const results: SpeedResult[] = [];
const benchStart = performance.now();
const loadAverageAtStart = os.loadavg()[0];
const engines: readonly Engine[] = ["layerstream", ...(BASELINE_BIN ? (["baseline"] as const) : []), "llamaCpp", ...(native ? (["native"] as const) : [])];

for (const modelPath of modelPaths) {
  let prompt: { text: string; tokens: number[] };
  let weightBytes: number;
  let weightType: string;
  {
    using model = Model.open(modelPath);
    prompt = buildPrompt(model, N_PROMPT_TOKENS);
    weightBytes = weightBytesPerToken(model);
    weightType = ggmlTypeName(model.layers[0].ffnDown.type);
  }
  const name = modelPath.replace(os.homedir(), "~");
  log(`${name}: ${weightType}, prompt ${prompt.tokens.length} tokens, ${formatBytes(weightBytes)} of weights per token`);

  const llamaModel = await llama.loadModel({ modelPath });
  const context = await llamaModel.createContext({ contextSize: CONTEXT_SIZE, threads: nThreads, flashAttention: FLASH_ATTN, batchSize: 512 });
  const bos = llamaModel.tokens.bos as unknown as number | null;
  const llamaTokens = [...(llamaModel.tokens.shouldPrependBosToken && bos != null ? [bos] : []), ...(llamaModel.tokenize(prompt.text) as unknown as number[])];
  if (llamaTokens.join() !== prompt.tokens.join()) log("  note: llama.cpp tokenizes the prompt text differently; both engines still get layerstream's ids");
  await runLlamaCpp(context, prompt.tokens.slice(0, 8)); // warm-up (untimed)

  const runs: Record<Engine, Speed[]> = { layerstream: [], baseline: [], llamaCpp: [], native: [] };
  const modelBandwidths: number[] = [];
  for (let rep = 0; rep < nReps; rep++) {
    modelBandwidths.push(measureReadBandwidth(nThreads));
    bandwidths.push(modelBandwidths.at(-1)!);
    log(`  rep ${rep + 1} memory read bandwidth with ${nThreads} threads: ${(bandwidths.at(-1)! / 1e9).toFixed(1)} GB/s`);
    // rotate which engine goes first
    const order = engines.map((_, i) => engines[(i + rep) % engines.length]);
    for (const engine of order) {
      const speed =
        engine === "layerstream" ? await runLayerstream(modelPath, prompt.text, prompt.tokens.length)
        : engine === "baseline" ? await runLayerstream(modelPath, prompt.text, prompt.tokens.length, BASELINE_BIN)
        : engine === "native" ? await runNativeLlamaBench(native!, modelPath, nativeOptions)
        : await runLlamaCpp(context, prompt.tokens);
      runs[engine].push(speed);
      log(`  rep ${rep + 1} ${engine}: prefill ${speed.prefillTokensPerSecond.toFixed(1)} tok/s, decode ${speed.decodeTokensPerSecond.toFixed(1)} tok/s`);
    }
  }
  await context.dispose();
  await llamaModel.dispose();
  results.push({
    name, weightType, fileBytes: fs.statSync(modelPath).size, weightBytes, runs, bandwidths: modelBandwidths,
    layerstream: medianSpeed(runs.layerstream), llamaCpp: medianSpeed(runs.llamaCpp),
    baseline: BASELINE_BIN ? medianSpeed(runs.baseline) : undefined, native: native ? medianSpeed(runs.native) : undefined,
  });
}
await llama.dispose();
const benchMinutes = (performance.now() - benchStart) / 60000;
const bandwidth = median(bandwidths);

const nativeLine = native
  ? `- llama.cpp native: \`llama-bench\` built for this CPU from llama.cpp ${native.commit.slice(0, 12)}, the source node-llama-cpp ${llamaVersion()} bundles (\`node_modules/node-llama-cpp/llama/gitRelease.bundle\`), once, cached outside the repository: \`${native.configureCommand}\` then \`${native.buildCommand}\`. Each run a fresh process: \`llama-bench ${llamaBenchArgs("FILE", nativeOptions).join(" ")}\` (it loads the model, runs one untimed warm-up per test, then times them); prefill = the pp${N_PROMPT_TOKENS} test's tok/s at depth 0, decode = the tg${nDecode} test's at depth ${N_PROMPT_TOKENS} (${nDecode} tokens after ${N_PROMPT_TOKENS} tokens of context, like the other engines; llama-bench feeds random token ids). Unlike node-llama-cpp's prebuilt library (a generic build per CPU family), this one is compiled with \`-march=native\`.\n`
  : "";

const report = `## Speed: layerstream vs llama.cpp (\`npm run bench\`${N_PROMPT_TOKENS === 128 ? "" : `, ${N_PROMPT_TOKENS}-token prompt`}${BASELINE_BIN ? ", before and after a change" : ""}${values.section ? `, ${values.types}` : ""})
${BASELINE_BIN ? `\n"baseline" is the build in \`${values.baseline}\` (${baselineCommit()}); "layerstream" is this checkout (${baselineCommit(".")}). All engines run alternately in the same run.\n` : ""}
- command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\`
- date: ${new Date().toISOString()}; whole run ${benchMinutes.toFixed(1)} min; 1-minute load average ${loadAverageAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (other work on this machine shows up here)
- machine: ${describeMachine(machine)}
- threads: ${nThreads} for every engine; ${nReps} repetitions per model, engines alternating (never concurrent), the first engine rotating each repetition; the table shows medians
- models: ${results.map((r) => `\`${r.name}\``).join(", ")}
- layerstream: \`layerstream generate --temperature 0 --ignore-eos -n ${nDecode + 1} --threads ${nThreads} --ctx-size ${CONTEXT_SIZE} --flash-attn ${FLASH_ATTN ? "on" : "off"} --stats-json\`, a fresh process per run; kernels as reported: ${[...layerstreamKernels].join("; ")}. Prefill = promptTokens ÷ promptSeconds (one batch of the prompt); decode = ${nDecode} forward passes after the prompt ÷ generateSeconds.
- llama.cpp: node-llama-cpp ${llamaVersion()} (\`getLlama({gpu: false, build: "never"})\`, \`createContext({contextSize: ${CONTEXT_SIZE}, threads: ${nThreads}, flashAttention: ${FLASH_ATTN}, batchSize: 512})\`), model loaded once per file plus an untimed 8-token warm-up; \`sequence.evaluate(tokens, {temperature: 0})\`. Prefill = prompt start → first generated token (includes one greedy sample); decode = first → generated token ${nDecode + 1}, i.e. ${nDecode} forward passes.
${nativeLine}- prompt: the same ${N_PROMPT_TOKENS} token ids (BOS included) for layerstream and node-llama-cpp: a text built so layerstream's tokenizer yields exactly ${N_PROMPT_TOKENS} ids, which are passed to llama.cpp as ids (llama.cpp's own tokenization of the text was checked to match)
- every engine brings every weight into memory before any timing (layerstream: every page of the mapping touched at load, or every layer read for files ≥ 2 GiB; node-llama-cpp: \`loadModel\` and the warm-up; llama-bench: its warm-up runs)
- node-llama-cpp's CPU library on this host: ${referenceCpuBuild()}${referenceCpuBuild() === "sapphirerapids" ? " (Intel AMX: llama.cpp multiplies Q4_0/Q4_1/Q8_0/K-quant batches with AMX int8 tiles, which layerstream does not use)" : ""}

${speedTable(results)}

Targets (issue 3, Q4_0 and Q8_0: decode ≥ 0.8×, prefill ≥ 0.5× llama.cpp):
${targetsList(results) || "- (no Q4_0/Q8_0 model in this run)"}

Targets (issue 20: decode and prefill ≥ 1.0× native llama.cpp; decode ≥ 70% of the memory-bandwidth bound on the 7B shape Q4_0):
${nativeTargetsList(results, bandwidth) || "- (no native column in this run)"}

Decode vs the memory-bandwidth bound: decoding a token reads every weight once (every tensor, but one row of the token embeddings), so it takes at least (weights read per token) ÷ (memory read bandwidth). The bandwidth is measured in this run, before each repetition of each model, with ${nThreads} threads: ${BANDWIDTH_METHOD}. Median ${(bandwidth / 1e9).toFixed(1)} GB/s (each: ${bandwidths.map((b) => (b / 1e9).toFixed(1)).join(", ")}); this virtual machine's bandwidth moves with its neighbours' load (issue 3 once measured 51 GB/s here).

${boundTable(results, bandwidth)}

Each run, prefill/decode tok/s in order: 
${perRunList(results)}
`;

function llamaVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL("../../node_modules/node-llama-cpp/package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** `git rev-parse --short HEAD` of a checkout, or "?" */
function baselineCommit(dir: string = values.baseline ?? "."): string {
  try {
    return execFileSync("git", ["-C", dir, "log", "-1", "--format=%h %s"], { encoding: "utf8" }).trim().slice(0, 80);
  } catch {
    return "?";
  }
}

const section = values.section ?? (BASELINE_BIN ? "speed-baseline" : N_PROMPT_TOKENS === 128 ? "speed" : `speed-prompt-${N_PROMPT_TOKENS}`);
log(`wrote ${writeSection(section, report)}`);
process.stdout.write(report);
