/**
 * npm run bench:stream -- [--model FILE] [--max-memory SIZE] [--tokens N] [--reps N]
 *
 * Layer streaming against the IO lower bound: time per token, bytes read per token, disk
 * bandwidth, peak RSS, for budgets of 25%, 50% and 100% of the model (or one given budget),
 * the in-RAM path, AirLLM's approach (one layer of budget, no read-ahead), and the 25% budget
 * with streamed layers left in the page cache. The page cache is dropped before every cold run
 * when running as root; the streamer itself drops each layer's pages once copied (unless
 * --keep-page-cache), so every re-read comes from the disk. Each configuration runs --reps
 * times, all configurations in turn (alternating), and the table shows medians.
 * Results go to docs/BENCHMARKS.md.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { Model } from "../../src/engine/model/model.js";
import { fixedBytes } from "../../src/root/memoryPlan.js";
import { StreamingLayerSource } from "../../src/engine/streaming/streamingLayerSource.js";
import { formatBytes, parseByteSize } from "../../src/engine/streaming/byteSize.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, tinyLlamaShape } from "./benchModels.js";
import { dropCaches, measureReadBandwidth } from "./pageCache.js";
import { runGenerate, type GenerateRunStats } from "./runGenerate.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({
  options: { model: { type: "string" }, "max-memory": { type: "string" }, tokens: { type: "string", default: "8" }, reps: { type: "string", default: "3" } },
});
const log = (line: string) => process.stderr.write(`bench:stream: ${line}\n`);
const nTokens = Number(values.tokens);
const nReps = Math.max(1, Number(values.reps));
const PROMPT = "Once upon a time";

const modelPath = values.model ?? (await ensureBenchModel("tinyllama-shape", tinyLlamaShape(GgmlType.F16), log));
const fileBytes = fs.statSync(modelPath).size;
const machine = await machineFacts();
const { bytesPerSecond, cold } = measureReadBandwidth(modelPath);
log(`sequential read: ${(bytesPerSecond / 1e9).toFixed(2)} GB/s (${cold ? "page cache dropped" : "page cache NOT dropped: not root"})`);

let minimumBudget: number;
/** bytes of all blocks: what the first pass reads with an empty cache */
let allLayerBytes: number;
{
  using model = Model.open(modelPath, { access: "read" });
  minimumBudget = fixedBytes(model, 64 + nTokens, 8) + StreamingLayerSource.minimumBudget(model.layers);
  allLayerBytes = model.layers.reduce((n, l) => n + l.nBytes, 0);
}

interface Config {
  name: string;
  args: string[];
  /** run once before measuring (warm page cache), instead of dropping it */
  warm?: boolean;
}
const configs: Config[] = [];
const budgets = values["max-memory"] ? [parseByteSize(values["max-memory"])] : [0.25, 0.5, 1].map((f) => Math.floor(f * fileBytes));
for (const budget of budgets) configs.push({ name: `budget ${formatBytes(budget)} (${((100 * budget) / fileBytes).toFixed(0)}%)`, args: ["--max-memory", String(budget)] });
configs.push({ name: `AirLLM-style: one layer, no read-ahead (${formatBytes(minimumBudget)})`, args: ["--max-memory", String(minimumBudget), "--prefetch", "0"] });
configs.push({ name: "in RAM (all layers resident, warm page cache)", args: [], warm: true });
if (budgets.length === 3) {
  configs.push({ name: `budget ${formatBytes(budgets[0])} (25%), --keep-page-cache`, args: ["--max-memory", String(budgets[0]), "--keep-page-cache"] });
}

interface Row {
  name: string;
  stats: GenerateRunStats;
  secondsPerToken: number;
  /** every repetition's s/token, in run order */
  samples: number[];
  bytesPerToken: number;
  ioBoundSeconds: number;
}
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const runs: { stats: GenerateRunStats; secondsPerToken: number }[][] = configs.map(() => []);
for (let rep = 0; rep < nReps; rep++) {
  for (const [index, config] of configs.entries()) {
    const common = ["--model", modelPath, "--prompt", PROMPT, "--temperature", "0", "--ignore-eos", ...config.args];
    const args = [...common, "-n", String(nTokens)];
    if (config.warm) await runGenerate([...common, "-n", "2"]);
    else dropCaches();
    const stats = await runGenerate(args);
    const secondsPerToken = stats.generateSeconds / Math.max(1, stats.generatedTokens - 1);
    runs[index].push({ stats, secondsPerToken });
    log(`rep ${rep + 1}/${nReps} ${config.name}: ${secondsPerToken.toFixed(3)} s/token, ${formatBytes(stats.bytesRead / stats.generatedTokens)} read/token, peak RSS ${formatBytes(stats.peakRssBytes)}`);
  }
}
const rows: Row[] = configs.map((config, index) => {
  const samples = runs[index].map((r) => r.secondsPerToken);
  const secondsPerToken = median(samples);
  const stats = runs[index].find((r) => r.secondsPerToken === secondsPerToken)!.stats;
  const peakRssBytes = Math.max(...runs[index].map((r) => r.stats.peakRssBytes));
  // the prompt pass reads every block once (the cache starts empty); the decode steps read the rest
  const bytesPerToken = stats.bytesRead > 0 ? Math.max(0, stats.bytesRead - allLayerBytes) / Math.max(1, stats.generatedTokens - 1) : 0;
  return { name: config.name, stats: { ...stats, peakRssBytes }, secondsPerToken, samples, bytesPerToken, ioBoundSeconds: bytesPerToken / bytesPerSecond };
});

const inRam = rows[budgets.length + 1];
const airllm = rows[budgets.length];
/** the 50% budget when measured, else the first budget */
const comparison = rows[budgets.length === 3 ? 1 : 0];
const table = [
  "| configuration | s/token (median) | runs | read/token | IO lower bound | s/token ÷ IO bound | hits / misses | IO wait | compute | peak RSS | budget |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) =>
    [
      r.name,
      r.secondsPerToken.toFixed(3),
      r.samples.map((x) => x.toFixed(3)).join(", "),
      formatBytes(r.bytesPerToken),
      `${r.ioBoundSeconds.toFixed(3)} s`,
      r.ioBoundSeconds > 0 ? `${(r.secondsPerToken / r.ioBoundSeconds).toFixed(2)}×` : "–",
      `${r.stats.cacheHits} / ${r.stats.cacheMisses}`,
      `${r.stats.ioWaitSeconds.toFixed(2)} s`,
      `${r.stats.computeSeconds.toFixed(2)} s`,
      formatBytes(r.stats.peakRssBytes),
      r.stats.budgetBytes ? formatBytes(r.stats.budgetBytes) : "–",
    ].join(" | ").replace(/^/, "| ").concat(" |"),
  ),
].join("\n");

const report = `## Layer streaming (\`npm run bench:stream\`)

- command: \`npm run bench:stream -- ${process.argv.slice(2).join(" ")}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: \`${modelPath.replace(process.env.HOME ?? "", "~")}\`, ${formatBytes(fileBytes)}
- disk: sequential read ${(bytesPerSecond / 1e9).toFixed(2)} GB/s ${cold ? "with the page cache dropped (on this VM the hypervisor may still cache: this is the tier that served the reads)" : "(page cache not dropped: not root)"}
- ${nTokens} tokens per run, greedy, \`--ignore-eos\`, ${nReps} runs of every configuration, alternating; s/token is decode time per generated token (median of the runs); read/token is what each decode step reads (the prompt pass, which reads every layer once, is left out)
- the page cache is dropped before each run, and the streamer drops each layer's pages after copying them (posix_fadvise DONTNEED), so re-reads come from the disk tier above, not from this VM's page cache — except in the \`--keep-page-cache\` row, where the file fits in RAM and re-reads are memory copies

${table}

Cache and read-ahead vs AirLLM's approach (reload every layer every token): ${comparison.secondsPerToken > 0 ? (airllm.secondsPerToken / comparison.secondsPerToken).toFixed(2) : "–"}× faster with ${comparison.name}. ${describeFullBudget(rows[budgets.length - 1], inRam)}
`;
log(`wrote ${writeSection("stream", report)}`);
process.stdout.write(report);

function describeFullBudget(full: Row, inRam: Row): string {
  const ratio = full.secondsPerToken / inRam.secondsPerToken;
  const within = Math.abs(ratio - 1) <= 0.05;
  return `Largest budget vs in RAM: ${ratio.toFixed(3)}× the in-RAM time per token (${within ? "within" : "not within"} 5%).`;
}
