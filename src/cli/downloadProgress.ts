/**
 * Showing a download's progress: a `cli-progress` bar (bytes, %, speed, ETA) when the output
 * is a terminal, else one plain line per 10% (per 100 MiB when the size is unknown), so logs
 * and CI output stay readable.
 */
import cliProgress from "cli-progress";
import type { DownloadProgress } from "../store/download.js";
import { formatBytes } from "../engine/streaming/byteSize.js";

const SPEED_WINDOW_MS = 5000;
const SAMPLE_EVERY_MS = 200;
const UNKNOWN_TOTAL_STEP_BYTES = 100 * 2 ** 20;

export interface ProgressOutput {
  /** a terminal to draw the bar on; without one, plain lines go to `line` */
  readonly tty?: NodeJS.WritableStream;
  /** writes one plain progress line (no newline needed) */
  readonly line: (text: string) => void;
}

export interface ProgressReporter extends Disposable {
  readonly onProgress: (progress: DownloadProgress) => void;
  /** ends the bar on screen (call before printing another line); the next progress starts a new one */
  stop(): void;
}

export function createProgressReporter(output: ProgressOutput): ProgressReporter {
  const speed = createSpeedMeter();
  let bar: cliProgress.SingleBar | undefined;
  let lastStep: number | undefined;
  const onProgress = (p: DownloadProgress): void => {
    const bytesPerSecond = speed.sample(p.nBytesDone);
    if (output.tty !== undefined && p.nBytesTotal !== undefined) {
      bar ??= startBar(output.tty, p);
      bar.setTotal(p.nBytesTotal);
      bar.update(p.nBytesDone, barPayload(p, bytesPerSecond));
      return;
    }
    const step = progressStepOf(p.nBytesDone, p.nBytesTotal);
    if (lastStep === undefined || step < lastStep) lastStep = progressStepOf(p.nBytesResumed, p.nBytesTotal);
    if (step > lastStep) {
      lastStep = step;
      output.line(plainLine(p, bytesPerSecond));
    }
  };
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return { onProgress, stop, [Symbol.dispose]: stop };
}

/** Tenths of the file, or 100 MiB steps when its size is unknown. */
function progressStepOf(nBytes: number, nBytesTotal: number | undefined): number {
  return nBytesTotal !== undefined && nBytesTotal > 0 ? Math.floor((nBytes * 10) / nBytesTotal) : Math.floor(nBytes / UNKNOWN_TOTAL_STEP_BYTES);
}

function startBar(stream: NodeJS.WritableStream, p: DownloadProgress): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: "{file} |{bar}| {percentage}% | {done} / {size} | {speed} | ETA {etaText}",
      stream,
      hideCursor: true,
      barsize: 30,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(p.nBytesTotal ?? 0, p.nBytesDone, barPayload(p, 0));
  return bar;
}

function barPayload(p: DownloadProgress, bytesPerSecond: number): Record<string, string> {
  const nBytesLeft = (p.nBytesTotal ?? 0) - p.nBytesDone;
  return {
    file: p.fileName,
    done: formatBytes(p.nBytesDone),
    size: formatBytes(p.nBytesTotal ?? 0),
    speed: `${formatBytes(bytesPerSecond)}/s`,
    etaText: bytesPerSecond > 0 ? formatSeconds(nBytesLeft / bytesPerSecond) : "?",
  };
}

function plainLine(p: DownloadProgress, bytesPerSecond: number): string {
  const rate = bytesPerSecond > 0 ? `, ${formatBytes(bytesPerSecond)}/s` : "";
  if (p.nBytesTotal === undefined || p.nBytesTotal === 0) return `${p.fileName}: ${formatBytes(p.nBytesDone)}${rate}`;
  const percent = Math.floor((p.nBytesDone * 100) / p.nBytesTotal);
  return `${p.fileName}: ${percent}% (${formatBytes(p.nBytesDone)} of ${formatBytes(p.nBytesTotal)}${rate})`;
}

/** Bytes per second over the last few seconds (one sample kept per SAMPLE_EVERY_MS). */
function createSpeedMeter(): { sample(nBytesDone: number): number } {
  const samples: { timeMs: number; nBytes: number }[] = [];
  return {
    sample(nBytesDone: number): number {
      const nowMs = performance.now();
      const last = samples[samples.length - 1];
      if (last !== undefined && nBytesDone < last.nBytes) samples.length = 0;
      if (samples.length === 0 || nowMs - samples[samples.length - 1].timeMs >= SAMPLE_EVERY_MS) samples.push({ timeMs: nowMs, nBytes: nBytesDone });
      while (samples.length > 1 && nowMs - samples[0].timeMs > SPEED_WINDOW_MS) samples.shift();
      const first = samples[0];
      const elapsedMs = nowMs - first.timeMs;
      return elapsedMs > 0 ? ((nBytesDone - first.nBytes) * 1000) / elapsedMs : 0;
    },
  };
}

/** 75 → "1m15s" */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
