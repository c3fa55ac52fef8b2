/** `layerstream profile` as a user runs it: its own flags, the table on stdout, errors in one line. */
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";

describe("layerstream profile", () => {
  it("prints the table on stdout and the generated text on stderr", async () => {
    const run = await runCli(["profile", "--model", modelFile("stories260K.gguf"), "-p", "Once upon a time", "-n", "4", "--temperature", "0"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/layer/i);
    expect(run.stderr).toContain(", there was a");
  });

  it("with --json prints the profile document on stdout", async () => {
    const run = await runCli(["profile", "-m", modelFile("stories260K.gguf"), "-p", "Once", "-n", "3", "--temp", "0", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.version).toBe(1);
    expect(doc.passes.length).toBe(3);
  });

  it("refuses --out without a file name, in one line", async () => {
    const run = await runCli(["profile", "-p", "x", "--out"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/--out/);
  });
});
