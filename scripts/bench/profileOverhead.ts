/**
 * npm run bench:profile-overhead -- [--model FILE] [--tokens N] [--reps N]
 *
 * What timing collection costs: decode tok/s of `layerstream generate` against the same run
 * under `npm run profile` (same flags, same process layout), alternating, medians of --reps;
 * single process and --spawn-workers 2. Issue 6's target: < 3%. Results go to docs/BENCHMARKS.md.
 */
import path from "node:path";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel } from "./benchModels.js";
import type { GenerateRunStats } from "./runGenerate.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({ options: { model: { type: "string" }, tokens: { type: "string", default: "64" }, reps: { type: "string", default: "5" } } });
const log = (line: string) => process.stderr.write(`bench:profile-overhead: ${line}\n`);
const SCRIPT = path.resolve(import.meta.dirname, "../profile/index.ts");
/** `layerstream` from the TypeScript sources, like the profile script (not the compiled dist/) */
const PLAIN = path.resolve(import.meta.dirname, "sourceCli.ts");
const modelPath =
  values.model ??
  (await ensureBenchModel("mid-llama-1024x8", { nEmbd: 1024, nFf: 2816, nLayer: 8, nHead: 16, nHeadKv: 4, nVocab: 8192, nCtxTrain: 1024, weightType: GgmlType.Q8_0, embdType: GgmlType.Q8_0, seed: 4321 }, log));
const nReps = Math.max(1, Number(values.reps));

/**
 * A run with --stats-json (the generate stats are the last JSON line on stderr). Both kinds run
 * from TypeScript sources under tsx and write the generated text into a pipe read here (plain
 * generate to stdout, the profile script to stderr), so only the profiling differs.
 */
function runWith(profiled: boolean, args: readonly string[]): Promise<GenerateRunStats> {
  return new Promise((resolve, reject) => {
    const argv = profiled ? ["--import", "tsx", SCRIPT, ...args, "--stats-json"] : ["--import", "tsx", PLAIN, "generate", ...args, "--stats-json"];
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stderr.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      if (code !== 0 || !line) return reject(new Error(`profile exited ${code}: ${stderr.trim().split("\n").at(-1)}`));
      resolve(JSON.parse(line) as GenerateRunStats);
    });
  });
}

const decodeRate = (s: GenerateRunStats) => (s.generatedTokens - 1) / s.generateSeconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const layouts: [string, string[]][] = [
  ["single process", []],
  ["2 local workers", ["--spawn-workers", "2"]],
];
const rows: string[] = [];
for (const [name, extra] of layouts) {
  const args = ["--model", modelPath, "--prompt", "Once upon a time", "-n", values.tokens!, "--temperature", "0", "--ignore-eos", ...extra];
  const plain: number[] = [];
  const profiled: number[] = [];
  for (let rep = 0; rep < nReps; rep++) {
    const order = rep % 2 === 0 ? ["plain", "profiled"] : ["profiled", "plain"];
    for (const kind of order) {
      if (kind === "plain") plain.push(decodeRate(await runWith(false, args)));
      else profiled.push(decodeRate(await runWith(true, args)));
    }
    log(`${name} rep ${rep + 1}/${nReps}: ${plain.at(-1)!.toFixed(1)} vs ${profiled.at(-1)!.toFixed(1)} tok/s`);
  }
  const cost = 1 - median(profiled) / median(plain);
  rows.push(`| ${name} | ${median(plain).toFixed(1)} | ${median(profiled).toFixed(1)} | ${(100 * cost).toFixed(1)}% | ${plain.map((x) => x.toFixed(0)).join(", ")} | ${profiled.map((x) => x.toFixed(0)).join(", ")} |`);
}
const machine = await machineFacts();
const report = `## Profiling overhead (\`npm run bench:profile-overhead\`)

- command: \`${["npm run bench:profile-overhead", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ")}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: \`${modelPath.replace(process.env.HOME ?? "", "~")}\`; ${values.tokens} tokens, greedy; decode tok/s of \`layerstream generate\` vs the same flags under \`npm run profile\`, both from the TypeScript sources under tsx with the generated text going into a pipe, alternating, median of ${nReps}
- with profiling off the engine makes no clock calls inside blocks (the timer is not passed) and workers keep no records; on, each layer costs about ten \`performance.now()\` calls and one small object

| layout | generate tok/s | profiled tok/s | cost | generate runs | profiled runs |
|---|---:|---:|---:|---:|---:|
${rows.join("\n")}

Target (issue 6): < 3%. Negative costs are noise: the runs of one configuration vary by more than the cost.
`;
log(`wrote ${writeSection("profile-overhead", report)}`);
process.stdout.write(report);
