/**
 * The live half of the frame fuzzer: a real `layerstream worker` process (started with whatever
 * flags it needs, e.g. --insecure), fed the seeded frame stream over a ZeroMQ DEALER. Every
 * `pingEvery` frames it must answer a PING and still be running (a crash otherwise). A PING
 * waits behind the frames queued before it, so a slow answer is not a hang as long as the worker
 * keeps replying to something: a hang is `stallMs` with no reply at all. Replies are counted by
 * type, the slowest PING answer is reported, the peak RSS read from /proc, and the worker's
 * stderr searched for "internal error" and stack traces.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as zmq from "zeromq";
import { controlHeader, MessageType, PayloadEncoding } from "../../src/protocol/header.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/message.js";
import { frameStream, type FrameShape, type Frames, seedMessages } from "./frames.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/layerstream.js");

export interface LiveOptions {
  readonly seed: number;
  readonly count: number;
  readonly modelPath: string;
  readonly workerArgs: readonly string[];
  readonly shape: Omit<FrameShape, "address">;
  readonly pingEvery: number;
  /** no reply at all for this long while a PING is outstanding: a hang */
  readonly stallMs: number;
  readonly deadlineMs: number;
  readonly log: (line: string) => void;
}

export interface LiveReport {
  readonly sent: number;
  readonly replies: Map<string, number>;
  readonly pings: number;
  readonly hangs: number;
  /** the slowest PING answer, seconds */
  readonly slowestPingSeconds: number;
  readonly crashes: number;
  readonly stderrProblems: number;
  readonly peakRssBytes: number;
  readonly seconds: number;
  readonly timedOut: boolean;
}

export async function fuzzLiveWorker(options: LiveOptions): Promise<LiveReport> {
  const started = performance.now();
  const worker = await startWorker(options);
  const dealer = new zmq.Dealer({ linger: 0, sendHighWaterMark: 10_000 });
  dealer.connect(worker.address);
  const replies = new Map<string, number>();
  const pongs = new Set<number>();
  const progress = { lastReplyMs: performance.now(), slowestPingMs: 0 };
  void receive(dealer, replies, pongs, progress);
  const seeds = seedMessages({ ...options.shape, address: worker.address });
  let sent = 0;
  let pings = 0;
  let hangs = 0;
  let crashes = 0;
  let timedOut = false;
  for (const { frames } of frameStream(options.seed, 0, options.count, seeds)) {
    if (Date.now() > options.deadlineMs) {
      timedOut = true;
      break;
    }
    await dealer.send(frames.length === 0 ? [new Uint8Array(0)] : frames);
    sent++;
    if (sent % options.pingEvery !== 0) continue;
    pings++;
    if (!(await answersPing(dealer, pongs, 0x7f000000 + pings, options.stallMs, progress))) hangs++;
    if (!worker.running()) {
      crashes++;
      options.log(`live worker died after ${sent} frames: ${worker.stderrTail()}`);
      break;
    }
    if (sent % 10_000 === 0) options.log(`live: ${sent} frames sent, ${pings} pings answered ${pings - hangs}`);
  }
  pings++;
  if (worker.running() && !(await answersPing(dealer, pongs, 0x7f000000 + pings, options.stallMs, progress))) hangs++;
  const peakRssBytes = worker.peakRssBytes();
  dealer.close();
  await worker.stop();
  return { sent, replies, pings, hangs, slowestPingSeconds: progress.slowestPingMs / 1000, crashes: crashes + (worker.exitedBadly() ? 1 : 0), stderrProblems: worker.stderrProblems(), peakRssBytes, seconds: (performance.now() - started) / 1000, timedOut };
}

interface Progress {
  lastReplyMs: number;
  slowestPingMs: number;
}

async function receive(dealer: zmq.Dealer, replies: Map<string, number>, pongs: Set<number>, progress: Progress): Promise<void> {
  try {
    for await (const frames of dealer) {
      progress.lastReplyMs = performance.now();
      let type = "undecodable";
      try {
        const { header } = decodeMessage(frames);
        type = MessageType[header.type] ?? String(header.type);
        if (header.type === MessageType.PONG) pongs.add(header.requestId);
      } catch {}
      replies.set(type, (replies.get(type) ?? 0) + 1);
    }
  } catch {}
}

/**
 * Whether a PING is answered before the worker goes `stallMs` without replying to anything. It
 * is sent again every stallMs / 3 (a frame the worker dropped a connection over may take one
 * with it); the PONG of any of them counts.
 */
async function answersPing(dealer: zmq.Dealer, pongs: Set<number>, requestId: number, stallMs: number, progress: Progress): Promise<boolean> {
  const ids: number[] = [];
  const sentMs = performance.now();
  let resendMs = 0;
  while (!ids.some((id) => pongs.has(id))) {
    const now = performance.now();
    if (now - Math.max(progress.lastReplyMs, sentMs) > stallMs) return false;
    if (now >= resendMs && ids.length < 3) {
      ids.push((requestId + ids.length * 0x10000) >>> 0);
      await dealer.send(encodeMessage(controlHeader(MessageType.PING, ids.at(-1)!, PayloadEncoding.NONE)));
      resendMs = now + stallMs / 3;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  progress.slowestPingMs = Math.max(progress.slowestPingMs, performance.now() - sentMs);
  return true;
}

interface RunningWorker {
  readonly address: string;
  running(): boolean;
  exitedBadly(): boolean;
  stderrTail(): string;
  stderrProblems(): number;
  peakRssBytes(): number;
  stop(): Promise<void>;
}

function startWorker(options: LiveOptions): Promise<RunningWorker> {
  const child: ChildProcess = spawn(process.execPath, [BIN, "worker", "--model", options.modelPath, "--listen", "tcp://127.0.0.1:*", ...options.workerArgs], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let tail = "";
  let problems = 0;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.on("exit", (code, signal) => ((exit = { code, signal }), resolve())));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    tail = (tail + s).slice(-4000);
    problems += (s.match(/internal error|\n\s+at /g) ?? []).length;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start: ${tail}`)), 30_000);
    void exited.then(() => reject(new Error(`the worker exited before listening: ${tail}`)));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const match = /worker listening on (\S+?),/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        address: match[1],
        running: () => exit === undefined,
        exitedBadly: () => exit !== undefined && !stopping,
        stderrTail: () => tail.slice(-500),
        stderrProblems: () => problems,
        peakRssBytes: () => peakRss(child.pid!),
        stop: async () => {
          stopping = true;
          if (exit === undefined) child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}

/** VmHWM of a live process (0 once it is gone). */
function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export type { Frames };
