/**
 * npm run bench:trust -- [--model FILE] [--tokens N] [--reps N] [--lengths 32,128,512]
 *
 * What the trusted cluster costs and buys, in one run (results in docs/BENCHMARKS.md):
 * 1. CurveZMQ and heartbeats per hop against plaintext: decode tok/s and per-hop overhead
 *    through 2 local workers — plaintext without heartbeats, plaintext with, CurveZMQ with —
 *    alternating, median of the repetitions.
 * 2. Recovery against sequence length: 3 workers; at token L one worker is SIGKILLed (and, for
 *    one length, SIGSTOPped); the time the root loses (noticing + re-placing + replaying L
 *    tokens) as it reports it, and the extra gap between token L and L + 1.
 * 3. `--assign auto` against an even split (`contiguous`) on two workers with unequal budgets
 *    (one holds a quarter of the model, the other all of it).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { loadModel } from "../../src/index.js";
import { Model } from "../../src/engine/model/model.js";
import { generateClusterKey, writeClusterKey } from "../../src/host/clusterKey.js";
import { describeMachine, machineFacts } from "./machine.js";
import { ensureBenchModel, MID_LLAMA } from "./benchModels.js";
import { runGenerate, type GenerateRunStats } from "./runGenerate.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "64" },
    reps: { type: "string", default: "3" },
    lengths: { type: "string", default: "32,128,512" },
  },
});
const log = (line: string) => process.stderr.write(`bench:trust: ${line}\n`);
const BIN = path.resolve(import.meta.dirname, "../../bin/layerstream.js");
const nTokens = Number(values.tokens);
const nReps = Number(values.reps);
const lengths = values.lengths!.split(",").map(Number);
const PROMPT = "Once upon a time";
const modelPath = values.model ?? (await ensureBenchModel("mid-llama-1024x8", MID_LLAMA, log));
let layerBytes = 0;
let nLayer = 0;
{
  using model = Model.open(modelPath);
  nLayer = model.hparams.nLayer;
  layerBytes = model.layers.reduce((n, l) => n + l.nBytes, 0) / nLayer;
}
const machine = await machineFacts();
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-bench-key-"));
const keyFile = path.join(keyDir, "cluster.key");
writeClusterKey(keyFile, generateClusterKey());

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const decodeRate = (s: GenerateRunStats) => (s.generateSeconds > 0 ? (s.generatedTokens - 1) / s.generateSeconds : 0);
const hopMs = (s: GenerateRunStats) => {
  const passes = s.generatedTokens; // one prompt pass + (generated − 1) decode passes
  return (1000 * ((s.roundTripSeconds as number) - (s.workerComputeSeconds as number))) / (passes * (s.hops as number));
};

// 1. CurveZMQ and heartbeats per hop
const linkConfigs = [
  { name: "plaintext, no heartbeats", args: ["--insecure", "--heartbeat-timeout", "3600"] },
  { name: "plaintext, heartbeats (2 s)", args: ["--insecure"] },
  { name: "CurveZMQ, heartbeats (2 s)", args: [] as string[] },
];
const common = ["--model", modelPath, "--prompt", PROMPT, "--temperature", "0", "--ignore-eos", "-n", String(nTokens), "--spawn-workers", "2", "--assign", "contiguous", "--wire", "q8_0"];
const linkRuns = new Map(linkConfigs.map((c) => [c, [] as GenerateRunStats[]]));
for (let rep = 0; rep < nReps; rep++) {
  for (const config of rep % 2 === 0 ? linkConfigs : [...linkConfigs].reverse()) {
    const stats = await runGenerate([...common, ...config.args]);
    linkRuns.get(config)!.push(stats);
    log(`rep ${rep + 1}/${nReps} ${config.name}: ${decodeRate(stats).toFixed(2)} tok/s, ${hopMs(stats).toFixed(3)} ms/hop`);
  }
}
const plain = linkConfigs[0];
const linkRows = linkConfigs.map((c) => {
  const runs = linkRuns.get(c)!;
  const rate = median(runs.map(decodeRate));
  const hop = median(runs.map(hopMs));
  return { c, rate, hop, vsPlain: rate / median(linkRuns.get(plain)!.map(decodeRate)) };
});
const curveCost = 1 - linkRows[2].vsPlain;

// 2. Recovery against sequence length
interface WorkerProc {
  child: ChildProcess;
  address: string;
}
function startWorker(extra: readonly string[] = []): Promise<WorkerProc> {
  const child = spawn(process.execPath, [BIN, "worker", "-m", modelPath, "-l", "tcp://127.0.0.1:*", "--cluster-key", keyFile, "--threads", "1", ...extra], { stdio: ["ignore", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = /^worker listening on (\S+),/m.exec(out);
      if (m) resolve({ child, address: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
  });
}
const stopAll = async (list: WorkerProc[]) => {
  for (const w of list) {
    if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
    w.child.kill("SIGCONT");
    const gone = new Promise((r) => w.child.once("exit", r));
    w.child.kill("SIGKILL");
    await gone;
  }
};

interface RecoveryRow {
  length: number;
  signal: NodeJS.Signals;
  detectSeconds: number;
  recoverySeconds: number;
  gapSeconds: number;
  normalGapSeconds: number;
}
async function recoveryRun(length: number, signal: NodeJS.Signals): Promise<RecoveryRow> {
  const list = await Promise.all([startWorker(), startWorker(), startWorker()]);
  try {
    await using model = await loadModel({ model: modelPath, workers: list.map((w) => w.address), wire: "f32", assign: "contiguous", clusterKey: keyFile, contextSize: length + 128 });
    let n = 0;
    let last = performance.now();
    const gaps: number[] = [];
    let gapSeconds = 0;
    for await (const _ of model.stream(PROMPT, { maxTokens: length + 48, temperature: 0, ignoreEos: true })) {
      const now = performance.now();
      if (n > 1 && n !== length + 1) gaps.push((now - last) / 1000);
      if (n === length + 1) gapSeconds = (now - last) / 1000;
      if (++n === length + 1) list[1].child.kill(signal);
      last = now;
    }
    const cluster = (await model.stats()).cluster!;
    return { length, signal, detectSeconds: cluster.maxDetectSeconds, recoverySeconds: cluster.recoverySeconds, gapSeconds, normalGapSeconds: median(gaps) };
  } finally {
    await stopAll(list);
  }
}
const recoveryRows: RecoveryRow[] = [];
for (const length of lengths) {
  recoveryRows.push(await recoveryRun(length, "SIGKILL"));
  log(`recovery at ${length} tokens (SIGKILL): ${JSON.stringify(recoveryRows.at(-1))}`);
}
recoveryRows.push(await recoveryRun(lengths[0], "SIGSTOP"));
log(`recovery at ${lengths[0]} tokens (SIGSTOP): ${JSON.stringify(recoveryRows.at(-1))}`);

// 3. auto against an even split, unequal budgets
const quarter = Math.round((nLayer / 4) * layerBytes + 24 * 2 ** 20);
const whole = Math.round(nLayer * layerBytes * 1.5 + 64 * 2 ** 20);
const placementRows: { assign: string; rate: number; layers: string }[] = [];
{
  const runs = new Map<string, GenerateRunStats[]>([["contiguous", []], ["auto", []]]);
  for (let rep = 0; rep < nReps; rep++) {
    for (const assign of rep % 2 === 0 ? ["contiguous", "auto"] : ["auto", "contiguous"]) {
      const list = await Promise.all([startWorker(["--max-memory", String(quarter)]), startWorker(["--max-memory", String(whole)])]);
      try {
        const stats = await runGenerate(["--model", modelPath, "--prompt", PROMPT, "--temperature", "0", "--ignore-eos", "-n", String(nTokens), "--workers", list.map((w) => w.address).join(","), "--assign", assign, "--cluster-key", keyFile]);
        runs.get(assign)!.push(stats);
        log(`rep ${rep + 1}/${nReps} --assign ${assign}: ${decodeRate(stats).toFixed(2)} tok/s`);
      } finally {
        await stopAll(list);
      }
    }
  }
  for (const [assign, list] of runs) {
    const perWorker = (list[0].perWorker as { layers: string }[]).map((w) => w.layers).join(" / ");
    placementRows.push({ assign, rate: median(list.map(decodeRate)), layers: perWorker });
  }
}
fs.rmSync(keyDir, { recursive: true, force: true });

const MiB = 2 ** 20;
const report = `## Trusted cluster: CurveZMQ, recovery, placement (\`npm run bench:trust\`)

- command: \`${["npm run bench:trust", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ")}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: \`${modelPath.replace(os.homedir(), "~")}\`, ${nLayer} layers of ${(layerBytes / MiB).toFixed(1)} MiB; workers are local processes over loopback TCP

### CurveZMQ and heartbeats per hop (2 workers, \`--assign contiguous\`, \`--wire q8_0\`, ${nTokens} tokens, median of ${nReps})

| links | decode tok/s | vs plaintext without heartbeats | per-hop overhead (ms) |
|---|---:|---:|---:|
${linkRows.map((r) => `| ${r.c.name} | ${r.rate.toFixed(2)} | ${r.vsPlain.toFixed(3)}× | ${r.hop.toFixed(3)} |`).join("\n")}

Target: CurveZMQ and heartbeats cost ≤ 10% per hop against plaintext: ${curveCost <= 0.1 ? "**met**" : "**not met**"} (${(100 * curveCost).toFixed(1)}% of decode throughput; ±25% is this machine's noise between processes).

### Time lost per recovery against sequence length (3 workers, \`--wire f32\`, one worker lost at token L)

| L (tokens in the sequence) | signal | noticed after (s) | re-place + replay (s) | gap at the loss (s) | usual gap per token (s) |
|---:|---|---:|---:|---:|---:|
${recoveryRows.map((r) => `| ${r.length} | ${r.signal} | ${r.detectSeconds.toFixed(3)} | ${r.recoverySeconds.toFixed(3)} | ${r.gapSeconds.toFixed(3)} | ${r.normalGapSeconds.toFixed(4)} |`).join("\n")}

A killed worker's connection closes at once; a stopped one is noticed when its heartbeats stop (timeout 2 s). The replay runs the sequence's passes as they first ran (prompt in one pass, then one pass per generated token), so it grows with L at about the decode rate; the text after recovery is the uninterrupted run's (f32 wire; the recovery tests check it).

### \`--assign auto\` against an even split (2 workers: budgets ${(quarter / MiB).toFixed(0)} MiB and ${(whole / MiB).toFixed(0)} MiB, ${nTokens} tokens, median of ${nReps})

| --assign | decode tok/s | layers (worker 1 / worker 2) |
|---|---:|---|
${placementRows.map((r) => `| ${r.assign} | ${r.rate.toFixed(2)} | ${r.layers} |`).join("\n")}

With an even split the small worker holds more layers than its budget and streams them from disk on every token; \`auto\` gives it what it holds. Ratio auto ÷ even: ${(placementRows[1].rate / placementRows[0].rate).toFixed(2)}×.
`;
log(`wrote ${writeSection("cluster-trust", report)}`);
process.stdout.write(report);
