/**
 * npm run bench:profile-overhead -- [--model FILE] [--tokens N] [--reps N]
 *
 * What timing collection costs: decode tok/s of `layerstream generate` against the same run
 * under `npm run profile` (same flags, same process layout), alternating, medians of --reps;
 * single process and --spawn-workers 2. Issue 6's target: < 3%. Results go to docs/BENCHMARKS.md.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, MID_LLAMA } from "./benchModels.js";
import { runStats, type GenerateRunStats } from "./runGenerate.js";
import { writeSection } from "./report.js";
import { Model } from "../../src/engine/model/model.js";
import { Session } from "../../src/engine/session.js";
import { timeGreedyDecode } from "./greedyDecode.js";
import { RunProfiler } from "../../src/profile/runProfiler.js";
import { NULL_RECORDER } from "../../src/telemetry/recorder.js";
import { setUpKernels } from "../../src/api/kernelSetup.js";

const { values } = parseArgs({ options: { model: { type: "string" }, tokens: { type: "string", default: "64" }, reps: { type: "string", default: "5" } } });
const log = (line: string) => process.stderr.write(`bench:profile-overhead: ${line}\n`);
const SCRIPT = path.resolve(import.meta.dirname, "../profile/index.ts");
/** `layerstream` from the TypeScript sources, like the profile script (not the compiled dist/) */
const PLAIN = path.resolve(import.meta.dirname, "sourceCli.ts");
const modelPath =
  values.model ??
  (await ensureBenchModel("mid-llama-1024x8", MID_LLAMA, log));
const nReps = Math.max(1, Number(values.reps));

/**
 * Both kinds run from TypeScript sources under tsx and write the generated text into a pipe read
 * here (plain generate to stdout, the profile script to stderr), so only the profiling differs.
 */
function runWith(profiled: boolean, args: readonly string[]): Promise<GenerateRunStats> {
  const entry = profiled ? [SCRIPT] : [PLAIN, "generate"];
  return runStats(["--import", "tsx", ...entry, ...args], { pipeStdout: true, label: profiled ? "npm run profile" : "layerstream generate (sources)" });
}

/**
 * The timers alone, in one process: the same runner decodes 16-token blocks with per-layer
 * timing on and off, alternating 40 times (no process-to-process variance: same buffers, same
 * memory layout, same JIT state). Returns ms/token medians.
 */
async function inProcessCost(): Promise<{ offMs: number; onMs: number }> {
  await setUpKernels(undefined, () => {});
  using model = Model.open(modelPath, { contextSize: 1024 });
  await using runner = model.createLocalRunner();
  const ms: Record<"off" | "on", number[]> = { off: [], on: [] };
  for (let rep = 0; rep < 40; rep++) {
    for (const mode of rep % 2 ? (["on", "off"] as const) : (["off", "on"] as const)) {
      const session = new Session(model, runner, 0, { recorder: mode === "on" ? new RunProfiler([]) : NULL_RECORDER });
      ms[mode].push((await timeGreedyDecode(session, [1, 450, 2217], 16)).msPerToken);
      await runner.truncate(0, 0);
    }
  }
  return { offMs: median(ms.off), onMs: median(ms.on) };
}

const decodeRate = (s: GenerateRunStats) => (s.generatedTokens - 1) / s.generateSeconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const layouts: [string, string[]][] = [
  ["single process", []],
  ["2 local workers", ["--spawn-workers", "2"]],
];
const rows: string[] = [];
const inProcess = await inProcessCost();
log(`in process: ${inProcess.offMs.toFixed(3)} vs ${inProcess.onMs.toFixed(3)} ms/token`);
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

Timers alone, one process (the local runner decoding 16-token blocks with per-layer timing on and off, alternating 40 times; median ms/token): off ${inProcess.offMs.toFixed(3)}, on ${inProcess.onMs.toFixed(3)}, **cost ${(100 * (inProcess.onMs / inProcess.offMs - 1)).toFixed(1)}%**.

Whole runs, separate processes:

| layout | generate tok/s | profiled tok/s | cost | generate runs | profiled runs |
|---|---:|---:|---:|---:|---:|
${rows.join("\n")}

Target (issue 6): < 3%. Between processes the runs of one configuration vary by more than the cost (process-to-process differences in memory layout move decode speed by a few percent), which is why the timers are also measured in one process.
`;
log(`wrote ${writeSection("profile-overhead", report)}`);
process.stdout.write(report);
