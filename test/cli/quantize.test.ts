/**
 * `layerstream quantize IN OUT --type T`: the file llama-quantize writes (sha256 from
 * test/engine/gguf/quantizeModel.test.ts), a progress line per tensor on stderr, OUT's path on
 * stdout; bad input is one line and exit 2, with nothing written.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliResult } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";

/** llama-quantize TinyStories-656K-F32.gguf OUT Q4_0 1 (llama.cpp de3ff815ea7d559ee917f063901b8986f038abc6): the Q4_0 fixture */
const Q4_0_SHA256 = "7d402792fec33f550b826a6c5eddbf887e8b451d40ada414186227bcc0f2b5de";

let dir: string;
const input = () => modelFile("TinyStories-656K-F32.gguf");
const sha256Of = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-quantize-cli-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe("layerstream quantize", () => {
  it("writes llama-quantize's Q4_0 file, one progress line per tensor, OUT on stdout", async () => {
    const out = path.join(dir, "q4_0.gguf");
    const result = await runCli(["quantize", input(), out, "--type", "q4_0"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${out}\n`);
    expect(result.stderr.match(/^layerstream: \[\s*\d+\/20\] /gm)).toHaveLength(20);
    expect(result.stderr).toMatch(/token_embd\.weight: F32 → Q8_0/);
    expect(result.stderr).toMatch(/output_norm\.weight: F32 \(copied\)/);
    expect(result.stderr).toMatch(/wrote .*q4_0\.gguf \(Q4_0\)/);
    expect(sha256Of(out)).toBe(Q4_0_SHA256);
    expect(fs.readdirSync(dir)).toEqual(["q4_0.gguf"]);

    // an existing OUT needs --force
    expectOneLineError(await runCli(["quantize", input(), out, "--type", "Q8_0"]), /already exists \(use --force/);
    expect(sha256Of(out)).toBe(Q4_0_SHA256);
    const forced = await runCli(["quantize", input(), out, "--type", "Q8_0", "--force"]);
    expect(forced.code).toBe(0);
    expect(sha256Of(out)).toBe("7d1f907120b42fe29f9ea33ed3e7cc5f2b078a102b8215fbeae69870c8c6f550");
  });

  it("bad input: one line, exit 2, nothing written", async () => {
    const out = path.join(dir, "bad.gguf");
    expectOneLineError(await runCli(["quantize", path.join(dir, "missing.gguf"), out, "--type", "Q4_0"]), /missing\.gguf: no such file/);
    expectOneLineError(
      await runCli(["quantize", input(), out, "--type", "Q3_0"]),
      /unknown quantization type "Q3_0" \(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, .*Q6_K, IQ4_XS/,
    );
    expectOneLineError(await runCli(["quantize", input(), input(), "--type", "Q4_0", "--force"]), /is the input file/);
    const notGguf = path.join(dir, "not.gguf");
    fs.writeFileSync(notGguf, "this is not a GGUF file at all, just text");
    expectOneLineError(await runCli(["quantize", notGguf, out, "--type", "Q4_0"]), /bad magic/);
    expectOneLineError(await runCli(["quantize", input(), out]), /required option '--type <type>'/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
  });
});
