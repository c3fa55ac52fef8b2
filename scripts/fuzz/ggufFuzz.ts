/**
 * The GGUF half of `npm run fuzz`: N seeded mutations of real and synthetic models, split over
 * child processes (ggufChild.ts) watched by a watchdog. Per entry point it counts clean errors,
 * accepted files and crashes (an exception the CLI would call "internal error"); per iteration,
 * a child that dies (a signal, an abort) is a crash and one that stops reporting for
 * `hangMs` is a hang — killed, recorded, and the run goes on from the next iteration.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { GGUF_TARGETS, type GgufTarget } from "./ggufTargets.js";
import type { ChildMessage, ChildStart } from "./ggufChild.js";

export interface TargetTally {
  clean: number;
  accepted: number;
  crashes: number;
}

export interface GgufReport {
  readonly iterations: number;
  readonly perTarget: Record<GgufTarget, TargetTally>;
  /** whole-process crashes (the child died) and hangs (the child went silent), by iteration */
  readonly processCrashes: string[];
  readonly hangs: string[];
  /** error codes of clean refusals, over every entry point */
  readonly codes: Map<string, number>;
  /** the first few crashes: iteration, entry point, mutations, error */
  readonly crashSamples: string[];
  readonly mutationCounts: Map<string, number>;
  readonly peakRssBytes: number;
  readonly seconds: number;
}

export interface GgufFuzzOptions {
  readonly seed: number;
  readonly count: number;
  readonly seeds: readonly string[];
  readonly workDir: string;
  readonly parallel: number;
  readonly hangMs: number;
  /** epoch ms: children stop starting iterations after it */
  readonly deadlineMs: number;
  readonly log: (line: string) => void;
}

const CHILD = path.join(import.meta.dirname, "ggufChild.ts");

export async function fuzzGguf(options: GgufFuzzOptions): Promise<GgufReport> {
  const started = performance.now();
  const report = emptyReport();
  const perChild = Math.ceil(options.count / options.parallel);
  const ranges = Array.from({ length: options.parallel }, (_, k) => [k * perChild, Math.min(options.count, (k + 1) * perChild)] as const).filter(([a, b]) => b > a);
  let done = 0;
  const onDone = () => {
    done++;
    if (done % 5000 === 0) options.log(`gguf: ${done} of ${options.count} mutations, ${totalCrashes(report)} crashes, ${report.hangs.length} hangs`);
  };
  await Promise.all(ranges.map(([from, to]) => runRange(from, to, options, report, onDone)));
  return { ...report, iterations: done, seconds: (performance.now() - started) / 1000 };
}

function emptyReport(): GgufReport & { peakRssBytes: number } {
  const perTarget = Object.fromEntries(GGUF_TARGETS.map((t) => [t, { clean: 0, accepted: 0, crashes: 0 }])) as Record<GgufTarget, TargetTally>;
  return { iterations: 0, perTarget, processCrashes: [], hangs: [], codes: new Map(), crashSamples: [], mutationCounts: new Map(), peakRssBytes: 0, seconds: 0 };
}

export function totalCrashes(report: GgufReport): number {
  return report.processCrashes.length + Object.values(report.perTarget).reduce((n, t) => n + t.crashes, 0);
}

/** Runs iterations [from, to) in children, restarting after a crash or a hang. */
async function runRange(from: number, to: number, options: GgufFuzzOptions, report: GgufReport & { peakRssBytes: number }, onDone: () => void): Promise<void> {
  let next = from;
  while (next < to) {
    const { stoppedAt, reason } = await runChild({ seed: options.seed, from: next, to, seeds: options.seeds, workDir: options.workDir, deadlineMs: options.deadlineMs }, options.hangMs, report, onDone);
    if (stoppedAt === undefined) return;
    (reason === "hang" ? report.hangs : report.processCrashes).push(`iteration ${stoppedAt} (seed ${options.seed}): ${reason}`);
    onDone();
    next = stoppedAt + 1;
  }
}

/** One child over [start.from, start.to); resolves with the iteration it stopped at when it died or hung. */
function runChild(start: ChildStart, hangMs: number, report: GgufReport & { peakRssBytes: number }, onDone: () => void): Promise<{ stoppedAt?: number; reason?: string }> {
  return new Promise((resolve) => {
    const child: ChildProcess = fork(CHILD, [], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let current: number | undefined;
    let finished = false;
    let hung = false;
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
    let watchdog = setTimeout(() => {}, 0);
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        hung = true;
        child.kill("SIGKILL");
      }, hangMs);
    };
    child.on("message", (message: ChildMessage) => {
      arm();
      if (message.type === "start") current = message.i;
      else if (message.type === "done") {
        record(report, message);
        current = undefined;
        onDone();
      } else finished = true;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      if (finished && current === undefined) return resolve({});
      const at = current ?? start.from;
      resolve({ stoppedAt: at, reason: hung ? "hang" : `process died (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" | ")}` });
    });
    arm();
    child.send(start);
  });
}

function record(report: GgufReport & { peakRssBytes: number }, message: Extract<ChildMessage, { type: "done" }>): void {
  report.peakRssBytes = Math.max(report.peakRssBytes, message.maxRssBytes);
  for (const name of message.mutations.slice(1)) report.mutationCounts.set(name, (report.mutationCounts.get(name) ?? 0) + 1);
  for (const target of GGUF_TARGETS) {
    const outcome = message.outcomes[target];
    const tally = report.perTarget[target];
    if (outcome.kind === "clean") {
      tally.clean++;
      report.codes.set(outcome.code, (report.codes.get(outcome.code) ?? 0) + 1);
    } else if (outcome.kind === "accepted") tally.accepted++;
    else {
      tally.crashes++;
      if (report.crashSamples.length < 10) report.crashSamples.push(`iteration ${message.i}, ${target}, ${message.mutations.join(" + ")}: ${outcome.error}`);
    }
  }
}
