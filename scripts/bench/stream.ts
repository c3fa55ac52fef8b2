/**
 * npm run bench:stream -- [--model FILE] [--max-memory SIZE] [--tokens N]
 *
 * Layer streaming against the IO lower bound: time per token, bytes read per token, disk
 * bandwidth, peak RSS, for budgets of 25%, 50% and 100% of the model (or one given budget),
 * the in-RAM path, and AirLLM's approach (one layer of budget, no read-ahead). The page cache
 * is dropped before every cold run when running as root. Results go to docs/BENCHMARKS.md.
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
  options: { model: { type: "string" }, "max-memory": { type: "string" }, tokens: { type: "string", default: "8" } },
});
const log = (line: string) => process.stderr.write(`bench:stream: ${line}\n`);
const nTokens = Number(values.tokens);
const PROMPT = "Once upon a time";

const modelPath = values.model ?? (await ensureBenchModel("tinyllama-shape", tinyLlamaShape(GgmlType.F16), log));
const fileBytes = fs.statSync(modelPath).size;
const machine = await machineFacts();
const { bytesPerSecond, cold } = measureReadBandwidth(modelPath);
log(`sequential read: ${(bytesPerSecond / 1e9).toFixed(2)} GB/s (${cold ? "page cache dropped" : "page cache NOT dropped: not root"})`);

let minimumBudget: number;
{
  using model = Model.open(modelPath, { access: "read" });
  minimumBudget = fixedBytes(model, 64 + nTokens, 8) + StreamingLayerSource.minimumBudget(model.layers);
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

interface Row {
  name: string;
  stats: GenerateRunStats;
  secondsPerToken: number;
  bytesPerToken: number;
  ioBoundSeconds: number;
}
const rows: Row[] = [];
for (const config of configs) {
  const common = ["--model", modelPath, "--prompt", PROMPT, "--temperature", "0", "--ignore-eos", ...config.args];
  const args = [...common, "-n", String(nTokens)];
  if (config.warm) await runGenerate([...common, "-n", "2"]);
  else dropCaches();
  log(`${config.name}…`);
  const stats = await runGenerate(args);
  const forwards = stats.generatedTokens; // one prompt batch + (generated − 1) decode steps
  const secondsPerToken = stats.generateSeconds / Math.max(1, stats.generatedTokens - 1);
  const bytesPerToken = stats.bytesRead / forwards;
  rows.push({ name: config.name, stats, secondsPerToken, bytesPerToken, ioBoundSeconds: bytesPerToken / bytesPerSecond });
  log(`  ${secondsPerToken.toFixed(3)} s/token, ${formatBytes(bytesPerToken)} read/token, peak RSS ${formatBytes(stats.peakRssBytes)}`);
}

const inRam = rows.at(-1)!;
const airllm = rows.at(-2)!;
/** the 50% budget when measured, else the first budget */
const comparison = rows[budgets.length === 3 ? 1 : 0];
const table = [
  "| configuration | s/token | read/token | IO lower bound | s/token ÷ IO bound | hits / misses | IO wait | compute | peak RSS | budget |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) =>
    [
      r.name,
      r.secondsPerToken.toFixed(3),
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
- ${nTokens} tokens per run, greedy, \`--ignore-eos\`; s/token is decode time per generated token; read/token counts the prompt pass too
- the page cache is dropped before each run, not between tokens: when the model file fits in this machine's RAM, re-reads after the first token come from the page cache, so the IO lower bound (cold bandwidth) overstates the disk's share; a model larger than RAM reads at the cold rate

${table}

Cache and read-ahead vs AirLLM's approach (reload every layer every token): ${comparison.secondsPerToken > 0 ? (airllm.secondsPerToken / comparison.secondsPerToken).toFixed(2) : "–"}× faster with ${comparison.name}. Largest budget vs in RAM: ${(rows[budgets.length - 1].secondsPerToken / inRam.secondsPerToken).toFixed(2)}× the in-RAM time per token.
`;
log(`wrote ${writeSection("stream", report)}`);
process.stdout.write(report);
