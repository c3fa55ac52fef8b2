import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { Model } from "../../../src/engine/model/model.js";
import { StreamingLayerSource } from "../../../src/engine/streaming/streamingLayerSource.js";
import { canDropFromPageCache } from "../../../src/engine/streaming/pageCache.js";
import { writeSyntheticModel } from "../../../src/engine/gguf/syntheticModel.js";
import { requirePrerequisite } from "../../helpers/prerequisite.js";

/** util-linux's fincore: bytes of a file in the page cache (whole pages). */
function residentBytes(file: string): number {
  return Number(execFileSync("fincore", ["--bytes", "--raw", "--noheadings", "--output", "RES", file], { encoding: "utf8" }).trim());
}
function haveFincore(): boolean {
  try {
    execFileSync("fincore", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const PAGE_BYTES = 4096;

let dir: string;
let modelPath: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-pagecache-"));
  modelPath = path.join(dir, "model.gguf");
  // F32 layers of ~1 MiB each: hundreds of pages per layer
  await writeSyntheticModel(modelPath, { nEmbd: 256, nLayer: 3, nHead: 4, nHeadKv: 2, nFf: 512, nVocab: 300, weightType: GgmlType.F32, seed: 9 });
  // written pages are dirty until flushed, and the kernel drops only clean ones
  const fd = fs.openSync(modelPath, "r+");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("streaming and the OS page cache", () => {
  requirePrerequisite(haveFincore(), "fincore (util-linux)", "apt-get install util-linux");
  requirePrerequisite(canDropFromPageCache(), "posix_fadvise through the native addon", "npm install builds it; see native/simd/README.md");
  it("drops a block's file range from the page cache once it is copied in", async () => {
    using model = Model.open(modelPath, { access: "read" });
    fs.readFileSync(modelPath); // every page of the file in the page cache
    const fileBytes = fs.statSync(modelPath).size;
    expect(residentBytes(modelPath)).toBeGreaterThanOrEqual(fileBytes);
    await using source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: 2 * model.layers[0].nBytes, prefetchDepth: 0 });
    await source.acquire(1);
    source.release(1);
    const layerBytes = model.layers[1].nBytes;
    expect(layerBytes).toBeGreaterThan(100 * PAGE_BYTES);
    const dropped = fileBytes - residentBytes(modelPath);
    // the layer's whole pages went; the pages it shares with its neighbours at both ends stay
    expect(dropped).toBeGreaterThan(layerBytes - 2 * PAGE_BYTES);
    expect(dropped).toBeLessThanOrEqual(layerBytes + PAGE_BYTES);
  });

  it("keeps the pages with keepPageCache", async () => {
    using model = Model.open(modelPath, { access: "read" });
    fs.readFileSync(modelPath);
    await using source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: 2 * model.layers[0].nBytes, prefetchDepth: 0, keepPageCache: true });
    await source.acquire(1);
    source.release(1);
    expect(residentBytes(modelPath)).toBeGreaterThanOrEqual(fs.statSync(modelPath).size);
  });
});
