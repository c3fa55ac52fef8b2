/** The "fuzz" section of docs/BENCHMARKS.md: the command, the seed, and the counts of every phase. */
import { formatBytes } from "../../src/engine/streaming/byteSize.js";
import { GGUF_TARGETS } from "./ggufTargets.js";
import { totalCrashes, type GgufReport } from "./ggufFuzz.js";
import type { FramesReport } from "./framesInProcess.js";
import type { LiveReport } from "./liveWorker.js";

export interface FuzzRun {
  readonly seed: number;
  readonly started: Date;
  readonly gguf: GgufReport;
  readonly frames: FramesReport;
  readonly live: LiveReport;
  readonly workerArgs: readonly string[];
  readonly seedNames: readonly string[];
  readonly argv: readonly string[];
  /** describeMachine(await machineFacts()) */
  readonly machine: string;
  readonly note?: string;
}

const n = (value: number) => value.toLocaleString("en-US");

function top(counts: ReadonlyMap<string, number>, k = 12): string {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, k).map(([code, count]) => `${code} ${n(count)}`).join(", ");
}

export function fuzzMarkdown(run: FuzzRun): string {
  const { gguf, frames, live } = run;
  const lines = [
    "## Fuzzing (`npm run fuzz`)",
    "",
    `- command: \`npm run fuzz${run.argv.length > 0 ? ` -- ${run.argv.filter((a) => !a.startsWith("--note")).join(" ")}` : ""}\` (seed ${run.seed}: the same seed replays the same inputs; iteration i of a seed is reproducible alone)`,
    `- date: ${run.started.toISOString()}; machine: ${run.machine}`,
    "- clean = refused with a typed error (the CLI: one line, exit 2); accepted = read without error; crash = any other exception (the CLI's \"internal error\", exit 1) or a process that died; hang = no progress within the watchdog (a GGUF iteration unfinished after 60 s; a live worker that replies to nothing for 60 s while a PING waits)",
    "",
    `### GGUF: ${n(gguf.iterations)} mutations in ${gguf.seconds.toFixed(0)} s, ${totalCrashes(gguf)} crashes, ${gguf.hangs.length} hangs, peak RSS ${formatBytes(gguf.peakRssBytes)} (per child process)`,
    "",
    `Seeds: ${run.seedNames.join(", ")}. Mutations (1–3 stacked): ${top(gguf.mutationCounts, 20)}.`,
    "",
    "| entry point | clean | accepted | crashes |",
    "|---|---:|---:|---:|",
    ...GGUF_TARGETS.map((t) => `| ${targetName(t)} | ${n(gguf.perTarget[t].clean)} | ${n(gguf.perTarget[t].accepted)} | ${n(gguf.perTarget[t].crashes)} |`),
    `| whole process (died / hung) | – | – | ${gguf.processCrashes.length} / ${gguf.hangs.length} |`,
    "",
    `Most frequent refusals: ${top(gguf.codes)}.`,
    ...samples("GGUF crashes", [...gguf.crashSamples, ...gguf.processCrashes, ...gguf.hangs]),
    "",
    `### Frames in-process: ${n(frames.decoded)} frame sets in ${frames.seconds.toFixed(0)} s — ${n(frames.clean)} clean, ${n(frames.accepted)} accepted, ${frames.crashes} crashes${frames.timedOut ? " (stopped at --max-seconds)" : ""}`,
    "",
    `The frame decoder and each type's payload decoder, as a worker applies them. Refusals: ${top(frames.codes)}. Accepted by type: ${top(frames.acceptedTypes)}.`,
    ...samples("frame crashes", frames.crashSamples),
    "",
    `### Frames to a live worker: ${n(live.sent)} frame sets in ${live.seconds.toFixed(0)} s — ${live.crashes} crashes, ${live.hangs} hangs${live.timedOut ? " (stopped at --max-seconds)" : ""}`,
    "",
    `\`layerstream worker ${run.workerArgs.join(" ")}\` on ${run.seedNames[0]}, the same seeded stream over a ZeroMQ DEALER; a PING every 1,000 frame sets was answered ${live.pings - live.hangs} of ${live.pings} times (the slowest after ${live.slowestPingSeconds.toFixed(1)} s, queued behind the frames sent before it); the worker's stderr held ${live.stderrProblems} "internal error" lines or stack traces; its peak RSS ${formatBytes(live.peakRssBytes)}. Replies: ${top(live.replies)}.`,
    ...(run.note ? ["", `Note: ${run.note}`] : []),
  ];
  return lines.join("\n");
}

function targetName(target: string): string {
  return { parse: "`parseGguf` (bytes)", header: "`openGgufHeader` (file)", model: "`Model.open` + 4-token generation (resident, streamed, `--check-tensors`)", inspect: "`layerstream inspect --json`" }[target] ?? target;
}

function samples(what: string, items: readonly string[]): string[] {
  if (items.length === 0) return [];
  return ["", `${what} (first ${Math.min(items.length, 10)}):`, "", ...items.slice(0, 10).map((s) => `- ${s.split("\n")[0]}`)];
}
