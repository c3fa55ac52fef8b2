/**
 * Progress bars for long work on a terminal (cli-progress, on stderr): a download, bringing a
 * model's layers into memory, a long prompt. Nothing at all when stderr is not a TTY, and no
 * bar for work that ends within `showAfterMs` (a small model loads without a flash of bars).
 */
import cliProgress from "cli-progress";
import type { ProgressEvent } from "../api/options.js";

const LABELS: Record<ProgressEvent["phase"], string> = { download: "downloading", load: "loading layers", prompt: "reading the prompt" };

export interface ProgressReporter {
  readonly report: (event: ProgressEvent) => void;
  /** removes a bar left on screen (call before printing other lines) */
  stop(): void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr, showAfterMs = 300, nowMs: () => number = () => performance.now()): ProgressReporter {
  if (!stream.isTTY) return { report: () => {}, stop: () => {} };
  let phase: ProgressEvent["phase"] | undefined;
  let phaseStartMs = 0;
  let bar: cliProgress.SingleBar | undefined;
  let barStart = { ms: 0, done: 0 };
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const report = (event: ProgressEvent) => {
    if (event.phase !== phase) {
      stop();
      phase = event.phase;
      phaseStartMs = nowMs();
    }
    const finished = event.total > 0 && event.done >= event.total;
    if (!bar && !finished && nowMs() - phaseStartMs >= showAfterMs) {
      bar = startBar(stream, event);
      barStart = { ms: nowMs(), done: event.done };
    }
    if (!bar) return;
    bar.setTotal(Math.max(event.total, event.done, 1));
    bar.update(event.done, event.unit === "bytes" ? byteFields(event.done, event.total, event.done - barStart.done, (nowMs() - barStart.ms) / 1000) : {});
    if (finished) stop();
  };
  return { report, stop };
}

function startBar(stream: NodeJS.WriteStream, event: ProgressEvent): cliProgress.SingleBar {
  const bytes = event.unit === "bytes";
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `layerstream: ${LABELS[event.phase]} [{bar}] {percentage}% | ${bytes ? "{doneBytes}/{totalBytes} | {speed} | " : `{value}/{total} ${event.unit} | `}ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(event.total, 1), event.done, bytes ? byteFields(event.done, event.total, 0, 0) : {});
  return bar;
}

/** the byte counts and speed (bytes since the bar appeared ÷ seconds since then) shown on a download's bar */
function byteFields(done: number, total: number, nBytesSinceStart: number, seconds: number) {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  return { doneBytes: mib(done), totalBytes: total > 0 ? mib(total) : "?", speed: seconds > 0 ? `${mib(nBytesSinceStart / seconds)}/s` : "–" };
}
