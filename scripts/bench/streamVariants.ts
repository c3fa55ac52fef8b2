/**
 * npm run bench:stream-variants -- [--model FILE] [--tokens N] [--reps N]
 *
 * The two ways to keep a layer cache under a budget (issue 4: "measure both and keep the faster
 * one that respects the budget"): copies into owned buffers (StreamingLayerSource, what
 * layerstream uses) against views of a memory mapping with madvise WILLNEED/DONTNEED
 * (MappedLayerSource, in this directory). Same engine, same next-use eviction, read-ahead 1,
 * layer budgets of 25% and 50% of the layers, page cache dropped before every run; each run is
 * a child process so peak RSS is its own. The model must be < 2 GiB (mmap-io's limit here):
 * by default the TinyLlama-shaped Q8_0 file. Results go to docs/BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { Model } from "../../src/engine/model/model.js";
import { Session } from "../../src/engine/session.js";
import { timeGreedyDecode } from "./greedyDecode.js";
import { StreamingLayerSource } from "../../src/engine/streaming/streamingLayerSource.js";
import { formatBytes } from "../../src/engine/streaming/byteSize.js";
import { setUpKernels } from "../../src/api/kernelSetup.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, tinyLlamaShape } from "./benchModels.js";
import { MappedLayerSource } from "./mappedLayerSource.js";
import { dropCaches } from "./pageCache.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "8" },
    reps: { type: "string", default: "3" },
    child: { type: "string" },
    budget: { type: "string" },
  },
});
const PROMPT = "Once upon a time";
const nTokens = Number(values.tokens);

interface ChildResult {
  secondsPerToken: number;
  peakRssBytes: number;
  cacheHits: number;
  cacheMisses: number;
  tokens: number[];
}

if (values.child) {
  const result = await runChild(values.model!, values.child as "copy" | "mapped", Number(values.budget));
  process.stdout.write(JSON.stringify(result) + "\n");
} else {
  await runParent();
}

async function runChild(modelPath: string, variant: "copy" | "mapped", budgetBytes: number): Promise<ChildResult> {
  await setUpKernels(undefined, () => {});
  using model = Model.open(modelPath, { access: "read", contextSize: 256 });
  const copy = variant === "copy" ? await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes, prefetchDepth: 1 }) : undefined;
  using mapped = variant === "mapped" ? new MappedLayerSource(modelPath, model.layers, budgetBytes, 1) : undefined;
  await using runner = model.createLocalRunner(copy ?? mapped);
  const session = new Session(model, runner);
  const { msPerToken, tokens } = await timeGreedyDecode(session, model.tokenizer.encode(PROMPT, { addSpecial: true, parseSpecial: false }), nTokens);
  const counts = copy ? copy.snapshot() : { cacheHits: mapped!.cacheHits, cacheMisses: mapped!.cacheMisses };
  return { secondsPerToken: msPerToken / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024, cacheHits: counts.cacheHits, cacheMisses: counts.cacheMisses, tokens };
}

async function runParent(): Promise<void> {
  const log = (line: string) => process.stderr.write(`bench:stream-variants: ${line}\n`);
  const modelPath = values.model ?? (await ensureBenchModel("tinyllama-shape", tinyLlamaShape(GgmlType.Q8_0), log));
  let layerBytes: number;
  {
    using model = Model.open(modelPath, { access: "read" });
    layerBytes = model.layers.reduce((n, l) => n + l.nBytes, 0);
  }
  const nReps = Math.max(1, Number(values.reps));
  const budgets = [0.25, 0.5].map((f) => Math.floor(f * layerBytes));
  const variants = ["copy", "mapped"] as const;
  const results = new Map<string, ChildResult[]>();
  for (let rep = 0; rep < nReps; rep++) {
    for (const budget of budgets) {
      for (const variant of rep % 2 === 0 ? variants : [...variants].reverse()) {
        dropCaches();
        const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], "--child", variant, "--model", modelPath, "--budget", String(budget), "--tokens", String(nTokens)], { encoding: "utf8" });
        if (child.status !== 0) throw new Error(`${variant} run failed: ${child.stderr.trim().split("\n").at(-1)}`);
        const result = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as ChildResult;
        const key = `${variant}|${budget}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        log(`rep ${rep + 1}/${nReps} ${variant}, layer budget ${formatBytes(budget)}: ${result.secondsPerToken.toFixed(3)} s/token, peak RSS ${formatBytes(result.peakRssBytes)}`);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const budget of budgets) {
    const of = (variant: string) => results.get(`${variant}|${budget}`)!;
    const [copy, mapped] = [of("copy"), of("mapped")];
    const same = copy.every((r) => JSON.stringify(r.tokens) === JSON.stringify(mapped[0].tokens)) && mapped.every((r) => JSON.stringify(r.tokens) === JSON.stringify(mapped[0].tokens));
    for (const [variant, runs] of [["copies into owned buffers (layerstream)", copy], ["mmap + madvise", mapped]] as const) {
      const peak = Math.max(...runs.map((r) => r.peakRssBytes));
      rows.push(`| ${formatBytes(budget)} (${((100 * budget) / layerBytes).toFixed(0)}% of the layers) | ${variant} | ${median(runs.map((r) => r.secondsPerToken)).toFixed(3)} | ${runs.map((r) => r.secondsPerToken.toFixed(3)).join(", ")} | ${formatBytes(peak)} | ${runs[0].cacheHits} / ${runs[0].cacheMisses} |`);
    }
    const ratio = median(mapped.map((r) => r.secondsPerToken)) / median(copy.map((r) => r.secondsPerToken));
    const overBudget = Math.max(...mapped.map((r) => r.peakRssBytes)) - Math.max(...copy.map((r) => r.peakRssBytes));
    verdicts.push(`at ${formatBytes(budget)}: mmap + madvise takes ${ratio.toFixed(2)}× the time per token of copies, peak RSS ${overBudget >= 0 ? "+" : "−"}${formatBytes(Math.abs(overBudget))}; greedy tokens ${same ? "identical" : "DIFFER"}`);
  }
  const machine = await machineFacts();
  const report = `## Layer cache: copies vs mmap + madvise (\`npm run bench:stream-variants\`)

- command: \`${["npm run bench:stream-variants", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ")}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: \`${modelPath.replace(process.env.HOME ?? "", "~")}\` (layers ${formatBytes(layerBytes)}; mmap-io maps files < 2 GiB only, so not the F16 file)
- budgets are for the layer cache alone (head and KV cache come on top in both); read-ahead 1 layer; same next-use eviction; greedy, ${nTokens} decode tokens after "${PROMPT}"; page cache dropped before every run; ${nReps} runs each, alternating; median s/token; peak RSS is the process's, which counts mapped file pages it has touched

| layer budget | variant | s/token (median) | runs | peak RSS | hits / misses |
|---|---|---:|---:|---:|---:|
${rows.join("\n")}

${verdicts.map((v) => `- ${v}`).join("\n")}
`;
  log(`wrote ${writeSection("stream-variants", report)}`);
  process.stdout.write(report);
}
