/**
 * npm run bench:cluster -- [--model FILE] [--tokens N] [--reps N] [--assign round-robin|contiguous]
 *
 * Decode tok/s through 1, 2 and 4 local workers (`--spawn-workers`, real processes over real
 * ZeroMQ sockets on loopback) against the single-process engine, with `--wire q8_0` and f32;
 * wire bytes against the theoretical minimum and the per-hop overhead. Engines alternate
 * within each repetition and every number is the median of the repetitions. Results go to
 * docs/BENCHMARKS.md.
 *
 * Theoretical minimum of one forward pass of t tokens through S stages (hops = S + 1):
 * S × t rows of activations (root → first stage, stage → stage) + 1 row back (RESULT carries
 * only the last row) + 24 header bytes × hops messages; a row is nEmbd × 4 bytes in f32,
 * nEmbd × 2 in f16, nEmbd / 32 × 34 in q8_0. For a decode token (t = 1) that is
 * hops × (row bytes + 24).
 */
import { parseArgs } from "node:util";
import { Model } from "../../src/engine/model/model.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, MID_LLAMA } from "./benchModels.js";
import { runGenerate, type GenerateRunStats } from "./runGenerate.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "64" },
    reps: { type: "string", default: "3" },
    assign: { type: "string", default: "contiguous" },
  },
});
const log = (line: string) => process.stderr.write(`bench:cluster: ${line}\n`);
const nTokens = Number(values.tokens);
const nReps = Number(values.reps);
const assign = values.assign!;
const PROMPT = "Once upon a time";
const HEADER_BYTES = 24;
/** per-hop overhead target on loopback, and wire bytes over the minimum for q8_0 (issue 5) */
const HOP_TARGET_MS = 1;
const WIRE_TARGET_RATIO = 1.1;


const modelPath = values.model ?? (await ensureBenchModel("mid-llama-1024x8", MID_LLAMA, log));
let nEmbd: number;
let nLayer: number;
{
  using model = Model.open(modelPath, { access: "read" });
  nEmbd = model.hparams.nEmbd;
  nLayer = model.hparams.nLayer;
}
const machine = await machineFacts();

const ROW_BYTES: Record<string, (n: number) => number> = {
  f32: (n) => n * 4,
  f16: (n) => n * 2,
  q8_0: (n) => (n / 32) * 34,
};

interface Config {
  name: string;
  workers: number;
  wire?: string;
  args: string[];
}
const configs: Config[] = [{ name: "single process", workers: 0, args: [] }];
for (const wire of ["q8_0", "f32"]) {
  for (const workers of [1, 2, 4]) configs.push({ name: `${workers} worker${workers > 1 ? "s" : ""}, ${wire}`, workers, wire, args: ["--spawn-workers", String(workers), "--assign", assign, "--wire", wire] });
}

const common = ["--model", modelPath, "--prompt", PROMPT, "--temperature", "0", "--ignore-eos", "-n", String(nTokens)];
const runs = new Map<Config, GenerateRunStats[]>(configs.map((c) => [c, []]));
for (let rep = 0; rep < nReps; rep++) {
  // alternate the order between repetitions so drift (thermal, page cache) hits every engine alike
  const order = rep % 2 === 0 ? configs : [...configs].reverse();
  for (const config of order) {
    const stats = await runGenerate([...common, ...config.args]);
    runs.get(config)!.push(stats);
    log(`rep ${rep + 1}/${nReps} ${config.name}: ${decodeTokensPerSecond(stats).toFixed(2)} tok/s`);
  }
}

function decodeTokensPerSecond(s: GenerateRunStats): number {
  return s.generateSeconds > 0 ? (s.generatedTokens - 1) / s.generateSeconds : 0;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface WireFacts {
  hops: number;
  passes: number;
  measuredBytes: number;
  measuredPerToken: number;
  minimumPerToken: number;
  minimumBytes: number;
  decodeMinimumPerToken: number;
  hopOverheadMs: number;
}

/** Wire bytes vs the minimum and per-hop overhead of one run (the prompt is one batch: < 512 tokens). */
function wireFacts(s: GenerateRunStats, wire: string): WireFacts {
  const hops = s.hops as number;
  const stages = hops - 1;
  const rowBytes = ROW_BYTES[wire](nEmbd);
  const wireBytesSent = s.wireBytesSent as number;
  const tokensEvaluated = Math.round(wireBytesSent / (s.wireBytesPerToken as number));
  const decodePasses = tokensEvaluated - s.promptTokens;
  const pass = (t: number) => stages * t * rowBytes + rowBytes + hops * HEADER_BYTES;
  const minimumBytes = pass(s.promptTokens) + decodePasses * pass(1);
  const passes = 1 + decodePasses;
  const overheadSeconds = (s.roundTripSeconds as number) - (s.workerComputeSeconds as number);
  return { hops, passes, measuredBytes: wireBytesSent, measuredPerToken: s.wireBytesPerToken as number, minimumPerToken: minimumBytes / tokensEvaluated, minimumBytes, decodeMinimumPerToken: pass(1), hopOverheadMs: (1000 * overheadSeconds) / (passes * hops) };
}

const single = median(runs.get(configs[0])!.map(decodeTokensPerSecond));
interface Row {
  config: Config;
  tokPerSecond: number;
  facts?: WireFacts;
  ratio?: number;
}
const rows: Row[] = configs.map((config) => {
  const all = runs.get(config)!;
  const tokPerSecond = median(all.map(decodeTokensPerSecond));
  if (!config.wire) return { config, tokPerSecond };
  const facts = all.map((s) => wireFacts(s, config.wire!));
  const byOverhead = [...facts].sort((a, b) => a.hopOverheadMs - b.hopOverheadMs);
  const mid = byOverhead[byOverhead.length >> 1];
  const facts0 = { ...mid, hopOverheadMs: median(facts.map((f) => f.hopOverheadMs)), measuredPerToken: median(facts.map((f) => f.measuredPerToken)) };
  return { config, tokPerSecond, facts: facts0, ratio: median(facts.map((f) => f.measuredBytes / f.minimumBytes)) };
});

const cell = (r: Row) => {
  const f = r.facts;
  const perToken = (n: number) => `${n.toFixed(0)} B`;
  return [
    r.config.name,
    r.tokPerSecond.toFixed(2),
    `${(r.tokPerSecond / single).toFixed(2)}×`,
    f ? String(f.hops) : "–",
    f ? perToken(f.measuredPerToken) : "–",
    f ? perToken(f.minimumPerToken) : "–",
    r.ratio !== undefined ? `${r.ratio.toFixed(3)}×` : "–",
    f ? perToken(f.decodeMinimumPerToken) : "–",
    f ? f.hopOverheadMs.toFixed(3) : "–",
  ];
};

const table = [
  "| engine | decode tok/s | vs single | hops/pass | wire bytes/token (measured) | minimum bytes/token (same run) | measured ÷ minimum | minimum per decode token | per-hop overhead (ms) |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${cell(r).join(" | ")} |`),
].join("\n");

const q8 = rows.filter((r) => r.config.wire === "q8_0");
const worstRatio = Math.max(...q8.map((r) => r.ratio!));
const worstHop = Math.max(...rows.filter((r) => r.facts).map((r) => r.facts!.hopOverheadMs));
const worstHopOf = (wire: string) => Math.max(...rows.filter((r) => r.config.wire === wire).map((r) => r.facts!.hopOverheadMs));
const met = (ok: boolean) => (ok ? "**met**" : "**not met**");

const report = `## Cluster (\`npm run bench:cluster\`)

- command: \`${["npm run bench:cluster", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ")}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: \`${modelPath.replace(process.env.HOME ?? "", "~")}\`, nEmbd ${nEmbd}, ${nLayer} layers
- ${nTokens} tokens per run, greedy, \`--ignore-eos\`, prompt "${PROMPT}"; workers are local processes (\`--spawn-workers\`, ZeroMQ over loopback TCP), \`--assign ${assign}\`; median of ${nReps} runs, engines alternating
- decode tok/s = (generated − 1) / decode time; wire bytes/token = all activation and result bytes (24-byte headers + payloads, root and workers) over the tokens evaluated (prompt included), as \`--stats-json\` counts them; ZMTP framing (2–9 bytes per frame) and TCP/IP headers are not counted
- minimum per decode token = hops × (row + 24 bytes), a row being nEmbd/32 × 34 bytes in q8_0 (${ROW_BYTES.q8_0(nEmbd)} B here) and nEmbd × 4 in f32 (${ROW_BYTES.f32(nEmbd)} B); "minimum bytes/token (same run)" applies the same formula to every pass of the run, the prompt pass included (prompt rows on every hop but the RESULT, which carries only the last row)
- per-hop overhead = (round-trip time of all passes − workers' compute time) / (passes × hops): wire transfer, queueing, encoding and decoding, per hop

${table}

Targets (issue 5): per-hop overhead ≤ ${HOP_TARGET_MS} ms on loopback: ${met(worstHop <= HOP_TARGET_MS)} (worst ${worstHop.toFixed(3)} ms); q8_0 wire bytes ≤ ${WIRE_TARGET_RATIO}× the theoretical minimum: ${met(worstRatio <= WIRE_TARGET_RATIO)} (worst ${worstRatio.toFixed(3)}×). Worst per-hop overhead with f32: ${worstHopOf("f32").toFixed(3)} ms, with q8_0: ${worstHopOf("q8_0").toFixed(3)} ms.

The single-process engine and every worker run the same kernels on the same ${machine.logicalCores} logical cores, and the stages of one sequence run one after another (a pipeline with a single sequence has no parallelism), so the cluster adds no compute here: its point is memory, and the per-hop overhead is what it costs. With 4 workers, 5 processes share ${machine.logicalCores} cores, which also inflates the overhead. Differences within ±25% between rows are this machine's noise.
`;
log(`wrote ${writeSection("cluster", report)}`);
process.stdout.write(report);
