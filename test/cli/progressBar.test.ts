/**
 * Progress bars for loading and long prompts: drawn on a terminal only, only for work that
 * lasts, and nothing at all when stderr is not a terminal. Then for real: a long prompt under
 * a pseudo-terminal (`script`) shows the bar, the same run piped shows none.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { progressReporter } from "../../src/cli/progressBar.js";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { BIN, runCommand } from "../helpers/cli.js";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";

/** A stream that says it is (or is not) a terminal and keeps what is written to it. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let text = "";
  const stream = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(stream, { isTTY, columns: 100, text: () => text, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return stream;
}

describe("progressReporter", () => {
  it("draws a bar for lasting work on a terminal", () => {
    let now = 0;
    const stream = fakeStream(true);
    const { report, stop } = progressReporter(stream, 300, () => now);
    report({ phase: "prompt", done: 0, total: 2048, unit: "tokens" });
    now = 500;
    report({ phase: "prompt", done: 512, total: 2048, unit: "tokens" });
    now = 900;
    report({ phase: "prompt", done: 1024, total: 2048, unit: "tokens" });
    stop();
    expect(stream.text()).toMatch(/reading the prompt .*\d+% \| 1024\/2048 tokens/);
  });

  it("draws nothing for work that ends quickly, and nothing at all off a terminal", () => {
    let now = 0;
    const quick = fakeStream(true);
    const a = progressReporter(quick, 300, () => now);
    a.report({ phase: "load", done: 0, total: 2, unit: "layers" });
    now = 10;
    a.report({ phase: "load", done: 2, total: 2, unit: "layers" });
    expect(quick.text()).toBe("");
    const piped = fakeStream(false);
    const b = progressReporter(piped, 0, () => now);
    b.report({ phase: "prompt", done: 1, total: 10, unit: "tokens" });
    now = 1000;
    b.report({ phase: "prompt", done: 5, total: 10, unit: "tokens" });
    expect(piped.text()).toBe("");
  });
});

describe("generate with a long prompt", () => {
  let dir: string;
  let modelPath: string;
  let promptFile: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-progress-"));
    modelPath = path.join(dir, "wide.gguf");
    // wide enough that a 1,700-token prompt takes well over the bar's 300 ms
    await writeSyntheticModel(modelPath, { nEmbd: 512, nLayer: 4, nHead: 8, nHeadKv: 8, nFf: 1536, nVocab: 320, weightType: GgmlType.F32, seed: 3, nCtxTrain: 4096 });
    promptFile = path.join(dir, "prompt.txt");
    fs.writeFileSync(promptFile, "once upon a time there was a little robot who liked to sing. ".repeat(20));
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const generate = () => `"${process.execPath}" "${BIN}" generate -m "${modelPath}" -f "${promptFile}" -n 2 --temp 0 -t 1`;

  it("shows a bar on a terminal", async () => {
    const run = await runCommand("script", ["-qec", generate(), "/dev/null"], {}, 120_000);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/reading the prompt \[/);
  }, 120_000);

  it("shows none when stderr is not a terminal", async () => {
    const run = await runCommand("bash", ["-c", generate()], {}, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/reading the prompt/);
  }, 120_000);
});
