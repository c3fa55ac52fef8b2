/** The API side of the hardening checks: option bounds, checkTensors and verify, non-regular paths. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, LayerstreamError, OptionError } from "../../src/index.js";
import { f32Bytes, patchTensorData, writeModel } from "../helpers/hostileModels.js";

let dir: string;
let good: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-hostile-api-"));
  good = await writeModel(path.join(dir, "good.gguf"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function refusal(options: Parameters<typeof loadModel>[0]): Promise<LayerstreamError> {
  try {
    await (await loadModel(options)).dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(LayerstreamError);
    expect((error as Error).message).not.toContain("\n");
    return error as LayerstreamError;
  }
  throw new Error("loaded");
}

describe("loadModel refuses hostile options and files with one-line LayerstreamErrors", () => {
  it("contextSize beyond 2^24 (e.g. 1e15) is an OptionError, not a RangeError", async () => {
    const error = await refusal({ model: good, contextSize: 1e15 });
    expect(error).toBeInstanceOf(OptionError);
    expect(error.message).toBe('loadModel option "contextSize" must be an integer in [1, 16777216], got 1000000000000000');
  });

  it("checkTensors and verify are checked options", async () => {
    expect((await refusal({ model: good, checkTensors: "yes" as never })).message).toMatch(/"checkTensors" must be a boolean/);
    expect((await refusal({ model: good, verify: "partial" as never })).message).toMatch(/"verify" must be one of sampled, full/);
  });

  it("checkTensors: NaN weights are refused naming the tensor", async () => {
    const file = path.join(dir, "nan.gguf");
    fs.copyFileSync(good, file);
    patchTensorData(file, "output_norm.weight", 0, f32Bytes(NaN));
    const error = await refusal({ model: file, checkTensors: true });
    expect(error.code).toBe("NON_FINITE_WEIGHTS");
    expect(error.message).toMatch(/tensor "output_norm\.weight" holds NaN \(element 0 of 64\)/);
  });

  it("verify: full hashes the file (and logs which hash)", async () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = path.join(dir, "cache");
    try {
      const lines: string[] = [];
      const model = await loadModel({ model: good, verify: "full", log: (line) => lines.push(line) });
      await model.dispose();
      expect(lines.join("\n")).toMatch(/model file .*good\.gguf: sha256 [0-9a-f]{64} \(computed now, cached\)/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it("a FIFO as the model is refused at once, naming what it is", async () => {
    const fifo = path.join(dir, "model.fifo");
    execFileSync("mkfifo", [fifo]);
    expect((await refusal({ model: fifo })).message).toMatch(/model\.fifo is a FIFO \(named pipe\), not a regular file/);
  });
});
