/**
 * The bulk of the frame fuzzing, in this process: the seeded frame stream (frames.ts) through
 * the frame decoder and the payload decoder of each message type — what a worker runs on every
 * message before acting on it. Clean = ProtocolError/LayerstreamError; crash = anything else.
 */
import { decodeFrames, frameStream, seedMessages, type FrameShape } from "./frames.js";

export interface FramesOptions {
  readonly seed: number;
  readonly count: number;
  readonly shape: Omit<FrameShape, "address">;
  /** epoch ms */
  readonly deadlineMs: number;
  readonly log: (line: string) => void;
}

export interface FramesReport {
  readonly decoded: number;
  readonly clean: number;
  readonly accepted: number;
  readonly crashes: number;
  readonly codes: Map<string, number>;
  readonly acceptedTypes: Map<string, number>;
  readonly crashSamples: string[];
  readonly peakRssBytes: number;
  readonly seconds: number;
  readonly timedOut: boolean;
}

export function fuzzFramesInProcess(options: FramesOptions): FramesReport {
  const started = performance.now();
  const seeds = seedMessages({ ...options.shape, address: "tcp://127.0.0.1:5555" });
  const codes = new Map<string, number>();
  const acceptedTypes = new Map<string, number>();
  const crashSamples: string[] = [];
  let clean = 0;
  let accepted = 0;
  let crashes = 0;
  let decoded = 0;
  let timedOut = false;
  for (const { index, frames, mutations } of frameStream(options.seed, 0, options.count, seeds)) {
    if (index % 10_000 === 0 && Date.now() > options.deadlineMs) {
      timedOut = true;
      break;
    }
    const outcome = decodeFrames(frames, options.shape.nEmbd);
    decoded++;
    if (outcome.kind === "clean") {
      clean++;
      codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
    } else if (outcome.kind === "accepted") {
      accepted++;
      acceptedTypes.set(outcome.type, (acceptedTypes.get(outcome.type) ?? 0) + 1);
    } else {
      crashes++;
      if (crashSamples.length < 10) crashSamples.push(`frame set ${index} (${mutations.join(" + ")}): ${outcome.error}`);
    }
    if (decoded % 250_000 === 0) options.log(`frames: ${decoded} of ${options.count} decoded, ${crashes} crashes`);
  }
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  return { decoded, clean, accepted, crashes, codes, acceptedTypes, crashSamples, peakRssBytes, seconds: (performance.now() - started) / 1000, timedOut };
}
