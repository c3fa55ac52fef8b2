import { describe, expect, it } from "vitest";
import { createProgressReporter, formatSeconds } from "../../src/cli/downloadProgress.js";

function feed(nBytesTotal: number | undefined, nBytesResumed: number, stepBytes: number, nBytesEnd: number): string[] {
  const lines: string[] = [];
  const reporter = createProgressReporter({ line: (l) => lines.push(l) });
  for (let done = nBytesResumed + stepBytes; done <= nBytesEnd; done += stepBytes) reporter.onProgress({ fileName: "m.gguf", nBytesDone: done, nBytesTotal, nBytesResumed });
  reporter.stop();
  return lines;
}

describe("createProgressReporter without a terminal", () => {
  it("prints one plain line per 10%", () => {
    const lines = feed(1000, 0, 7, 1000 - (1000 % 7));
    expect(lines.map((l) => /(\d+)%/.exec(l)![1])).toEqual(["10", "20", "30", "40", "50", "60", "70", "80", "90"]);
    expect(lines[0]).toMatch(/^m\.gguf: 10% \(\d+ B of 1000 B/);
    expect(feed(1000, 0, 1000, 1000)).toEqual([expect.stringMatching(/^m\.gguf: 100% /)]);
  });

  it("starts counting after the resumed bytes", () => {
    const lines = feed(1000, 450, 10, 1000);
    expect(lines.map((l) => /(\d+)%/.exec(l)![1])).toEqual(["50", "60", "70", "80", "90", "100"]);
  });

  it("prints a line per 100 MiB when the size is unknown", () => {
    expect(feed(undefined, 0, 50 * 2 ** 20, 300 * 2 ** 20)).toHaveLength(3);
  });
});

describe("formatSeconds", () => {
  it("formats an ETA", () => {
    expect([formatSeconds(9.4), formatSeconds(75), formatSeconds(3725)]).toEqual(["9s", "1m15s", "1h02m"]);
  });
});
