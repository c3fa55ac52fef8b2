/**
 * The runs of `npm run bench:headline`: layerstream under a budget and llama.cpp with mmap on the
 * same file, each in a child process with a progress line per token and a deadline (killed when
 * it passes), and the disk's read bandwidth measured around them.
 */
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { dropCaches, sequentialReadRate } from "./pageCache.js";
import type { GenerateRunStats } from "./runGenerate.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/layerstream.js");
const LLAMA_CHILD = path.resolve(import.meta.dirname, "headlineLlamaCpp.ts");
const TSX = path.resolve(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs");

export interface RunPlan {
  readonly model: string;
  readonly prompt: string;
  readonly tokens: number;
  readonly threads: number;
  /** epoch ms at which the run is killed */
  readonly deadlineMs: number;
  readonly log: (line: string) => void;
}

/** One configuration's result: seconds per decode token, bytes read per decode token, time to first token, peak RSS. */
export interface HeadlineResult {
  readonly secondsPerToken: number;
  readonly bytesPerToken: number;
  readonly ttftSeconds: number;
  readonly peakRssBytes: number;
  readonly decodeTokens: number;
  readonly stats?: GenerateRunStats;
}

/** Sequential read bandwidth (bytes/s) of the first `nBytes` of `file`, page cache dropped first. */
export function diskBandwidth(file: string, nBytes = 2 * 2 ** 30): number {
  dropCaches();
  return sequentialReadRate(file, nBytes);
}

/** A child process (node with `argv`, or `command`) whose stdout goes to `onData`, killed at the deadline; resolves with its exit code and stderr. */
function runChild(argv: readonly string[], plan: RunPlan, onData: (text: string, pid: number) => void, command = process.execPath): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), Math.max(1000, plan.deadlineMs - Date.now()));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.stdout.setEncoding("utf8").on("data", (text: string) => onData(text, child.pid!));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}

/** Calls `onLine` with each whole line of a stream given in pieces. */
function lines(onLine: (line: string) => void): (text: string) => void {
  let pending = "";
  return (text) => {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    parts.forEach(onLine);
  };
}

/** `layerstream generate --max-memory budget` on the plan, page cache dropped first. */
export async function runLayerstream(plan: RunPlan, budgetBytes: number, layerBytes: number, extraArgs: readonly string[] = []): Promise<HeadlineResult> {
  dropCaches();
  const started = Date.now();
  let pieces = 0;
  const args = [BIN, "generate", "-m", plan.model, "--max-memory", String(budgetBytes), "-p", plan.prompt, "-n", String(plan.tokens), "--temp", "0", "--ignore-eos", "--ctx-size", "64", "--threads", String(plan.threads), "--stats-json", ...extraArgs];
  const run = await runChild(args, plan, () => plan.log(`  layerstream ${(budgetBytes / 2 ** 30).toFixed(0)} GiB: text piece ${++pieces} at ${((Date.now() - started) / 1000).toFixed(1)} s`));
  if (run.timedOut) throw new Error(`layerstream with ${budgetBytes} bytes did not finish before the deadline`);
  const line = run.stderr.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (run.code !== 0 || !line) throw new Error(`layerstream exited ${run.code}: ${run.stderr.trim().split("\n").at(-1)}`);
  const stats = JSON.parse(line) as GenerateRunStats;
  const decodeTokens = Math.max(1, stats.generatedTokens - 1);
  return {
    secondsPerToken: stats.generateSeconds / decodeTokens,
    bytesPerToken: Math.max(0, stats.bytesRead - layerBytes) / decodeTokens,
    ttftSeconds: Number(stats.loadSeconds ?? 0) + stats.promptSeconds,
    peakRssBytes: stats.peakRssBytes,
    decodeTokens,
    stats,
  };
}

interface LlamaEvent {
  event: "loaded" | "token" | "done";
  seconds?: number;
  index?: number;
  readBytes?: number;
  peakRssBytes?: number;
}

/** llama.cpp (node-llama-cpp, mmap) on the plan in a child process, page cache dropped first. */
export async function runLlamaCpp(plan: RunPlan): Promise<HeadlineResult> {
  dropCaches();
  const events: LlamaEvent[] = [];
  const started = Date.now();
  const onLine = (line: string) => {
    if (!line.startsWith("{")) return;
    const event = JSON.parse(line) as LlamaEvent;
    events.push(event);
    if (event.event === "token") plan.log(`  llama.cpp: token ${event.index! + 1} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  const onLines = lines(onLine);
  const run = await runChild([TSX, LLAMA_CHILD, plan.model, String(plan.tokens), String(plan.threads), plan.prompt], plan, (text) => onLines(text));
  const tokens = events.filter((e) => e.event === "token");
  const done = events.find((e) => e.event === "done");
  if (tokens.length < 2) throw new Error(`llama.cpp ${run.timedOut ? "did not reach its second token before the deadline" : `exited ${run.code}: ${run.stderr.trim().split("\n").at(-1)}`}`);
  const loaded = events.find((e) => e.event === "loaded");
  const decode = tokens.slice(1);
  return {
    secondsPerToken: decode.reduce((s, e) => s + e.seconds!, 0) / decode.length,
    bytesPerToken: (decode.at(-1)!.readBytes! - tokens[0].readBytes!) / decode.length,
    ttftSeconds: (loaded?.seconds ?? 0) + tokens[0].seconds!,
    peakRssBytes: done?.peakRssBytes ?? 0,
    decodeTokens: decode.length,
  };
}

/** A process's storage reads so far and its peak RSS (/proc), 0 once it is gone. */
function procIo(pid: number): { readBytes: number; peakRssBytes: number } {
  try {
    const readBytes = Number(/^read_bytes: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
    const peakRssBytes = Number(/^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    return { readBytes, peakRssBytes };
  } catch {
    return { readBytes: 0, peakRssBytes: 0 };
  }
}

/**
 * llama.cpp's own `llama-completion` (built from the source node-llama-cpp bundles) with mmap and
 * `--no-repack` (its repacking copies every Q4_0 tensor into RAM first, which cannot fit), page
 * cache dropped first. Each piece of text on stdout is a token: its time and the process's reads
 * so far are taken then; peak RSS is sampled from /proc while it runs.
 */
export async function runLlamaCompletion(plan: RunPlan, binary: string): Promise<HeadlineResult> {
  dropCaches();
  const started = performance.now();
  const marks: { ms: number; readBytes: number }[] = [];
  let peakRssBytes = 0;
  const args = ["-m", plan.model, "-p", plan.prompt, "-n", String(plan.tokens), "-t", String(plan.threads), "-c", "64", "--temp", "0", "--no-repack", "-no-cnv", "--no-warmup", "--no-display-prompt", "--ignore-eos"];
  const run = await runChild(args, plan, (_text, pid) => {
    const io = procIo(pid);
    peakRssBytes = Math.max(peakRssBytes, io.peakRssBytes);
    marks.push({ ms: performance.now() - started, readBytes: io.readBytes });
    plan.log(`  llama.cpp: text piece ${marks.length} at ${(marks.at(-1)!.ms / 1000).toFixed(1)} s`);
  }, binary);
  if (run.timedOut || marks.length < 2) throw new Error(`llama-completion ${run.timedOut ? "did not finish before the deadline" : `exited ${run.code}: ${run.stderr.trim().split("\n").at(-1)}`}`);
  const decode = marks.length - 1;
  return {
    secondsPerToken: (marks.at(-1)!.ms - marks[0].ms) / 1000 / decode,
    bytesPerToken: (marks.at(-1)!.readBytes - marks[0].readBytes) / decode,
    ttftSeconds: marks[0].ms / 1000,
    peakRssBytes,
    decodeTokens: decode,
  };
}
