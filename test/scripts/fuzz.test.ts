/**
 * `npm run fuzz` at a small size: it runs every phase (GGUF mutations through every entry point,
 * frames in-process and to a live worker), finds nothing, and reports counts; and it does catch
 * a crash — an entry point throwing something other than a LayerstreamError.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../helpers/cli.js";
import { classify } from "../../scripts/fuzz/ggufTargets.js";
import { decodeFrames } from "../../scripts/fuzz/frames.js";
import { LayerstreamError } from "../../src/engine/errors.js";

const TSX = path.resolve("node_modules/.bin/tsx");

describe("npm run fuzz", () => {
  it("a short seeded run: every phase, 0 crashes, 0 hangs, a report", async () => {
    const run = await runCommand(TSX, ["scripts/fuzz/index.ts", "--seed", "7", "--gguf", "120", "--frames", "5000", "--live-frames", "1500", "--parallel", "1", "--worker-args=--insecure --max-memory 256MB", "--no-report"], {}, 240_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/### GGUF: 120 mutations in \d+ s, 0 crashes, 0 hangs/);
    expect(run.stdout).toMatch(/### Frames in-process: 5,000 frame sets in \d+ s — [\d,]+ clean, [\d,]+ accepted, 0 crashes/);
    expect(run.stdout).toMatch(/### Frames to a live worker: 1,500 frame sets in \d+ s — 0 crashes, 0 hangs/);
    expect(run.stdout).toMatch(/answered 2 of 2 times \(the slowest after [\d.]+ s, [^)]*\); the worker's stderr held 0 "internal error" lines/);
  }, 300_000);

  it("counts anything but a LayerstreamError as a crash", () => {
    expect(classify(new LayerstreamError("X", "y"))).toEqual({ kind: "clean", code: "X" });
    expect(classify(new TypeError("boom")).kind).toBe("crash");
    expect(decodeFrames([new Uint8Array(3)], 64)).toEqual({ kind: "clean", code: "SHORT_HEADER" });
  });
});
