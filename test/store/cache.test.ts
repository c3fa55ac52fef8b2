import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { removeCachedModel } from "../../src/store/cache.js";
import { listModels } from "../../src/store/catalog.js";
import { StoreError } from "../../src/store/errors.js";
import { modelFile } from "../helpers/paths.js";

let dir: string;
let env: NodeJS.ProcessEnv;
const modelsDir = () => path.join(dir, "cache", "layerstream", "models");

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-cache-"));
  env = { XDG_CACHE_HOME: path.join(dir, "cache") };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function cache(name: string, from: string, meta?: object): string {
  fs.mkdirSync(modelsDir(), { recursive: true });
  const target = path.join(modelsDir(), name);
  fs.copyFileSync(modelFile(from), target);
  if (meta) fs.writeFileSync(`${target}.json`, JSON.stringify(meta));
  return target;
}

function thrown(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error("expected a StoreError");
}

describe("listModels", () => {
  it("lists the built-in models (default first) with architecture and quant, on an empty cache", () => {
    const catalog = listModels({ env });
    expect(catalog.modelsDir).toBe(modelsDir());
    expect(catalog.models).toEqual([
      expect.objectContaining({ name: "TinyStories-656K-Q8_0.gguf", kind: "builtin", isDefault: true, architecture: "llama", quant: "Q8_0", nBytes: 749_728 }),
      expect.objectContaining({ name: "stories260K.gguf", kind: "builtin", isDefault: false, architecture: "llama", quant: "F32", nBytes: 1_185_376 }),
    ]);
  });

  it("lists cached models with their source and interrupted downloads as partial", () => {
    cache("tiny-q4_0.gguf", "TinyStories-656K-Q4_0.gguf", { source: "hf:a/b:Q4_0", url: "http://x/tiny-q4_0.gguf", nBytes: 1, downloadedAt: "" });
    fs.writeFileSync(path.join(modelsDir(), "big.gguf.part"), Buffer.alloc(1000));
    fs.writeFileSync(path.join(modelsDir(), "big.gguf.part.json"), JSON.stringify({ url: "http://x/big.gguf", nBytesTotal: 4000 }));
    fs.writeFileSync(path.join(modelsDir(), "notes.txt"), "ignored");
    const cached = listModels({ env }).models.filter((m) => m.kind !== "builtin");
    expect(cached).toEqual([
      expect.objectContaining({ name: "tiny-q4_0.gguf", kind: "cached", architecture: "llama", quant: "Q4_0", source: "hf:a/b:Q4_0" }),
      expect.objectContaining({ name: "big.gguf", kind: "partial", nBytes: 1000, nBytesTotal: 4000, source: "http://x/big.gguf" }),
    ]);
  });

  it("reports a cached file whose header cannot be read instead of failing", () => {
    fs.mkdirSync(modelsDir(), { recursive: true });
    fs.writeFileSync(path.join(modelsDir(), "junk.gguf"), "not a model");
    expect(listModels({ env }).models.find((m) => m.name === "junk.gguf")).toMatchObject({ kind: "cached", problem: expect.stringMatching(/BAD_MAGIC|magic/i) });
  });
});

describe("removeCachedModel", () => {
  it("deletes the file, its metadata and any .part, by name with or without .gguf", () => {
    const target = cache("tiny.gguf", "TinyStories-656K-Q4_0.gguf", { source: "s", url: "u", nBytes: 1, downloadedAt: "" });
    fs.writeFileSync(`${target}.part`, "x");
    fs.writeFileSync(`${target}.part.json`, "{}");
    const removed = removeCachedModel("tiny", { env });
    expect(removed).toEqual({ name: "tiny.gguf", nBytes: fs.statSync(modelFile("TinyStories-656K-Q4_0.gguf")).size + 1, dir: modelsDir() });
    expect(fs.readdirSync(modelsDir())).toEqual([]);
  });

  it("removes an interrupted download alone", () => {
    fs.mkdirSync(modelsDir(), { recursive: true });
    fs.writeFileSync(path.join(modelsDir(), "big.gguf.part"), "x");
    fs.writeFileSync(path.join(modelsDir(), "big.gguf.part.json"), "{}");
    expect(removeCachedModel("big.gguf", { env }).name).toBe("big.gguf");
    expect(fs.readdirSync(modelsDir())).toEqual([]);
  });

  it("refuses built-in models and lists the cached names for an unknown one", () => {
    cache("tiny.gguf", "TinyStories-656K-Q4_0.gguf");
    const builtin = thrown(() => removeCachedModel("stories260K", { env }));
    expect(builtin.code).toBe("BUILTIN_MODEL");
    expect(builtin.message).toMatch(/stories260K\.gguf is a built-in model .* cannot be removed/);
    const unknown = thrown(() => removeCachedModel("llama3", { env }));
    expect(unknown.code).toBe("UNKNOWN_MODEL");
    expect(unknown.message).toBe(`no cached model named "llama3"; cached: tiny.gguf (in ${modelsDir()})`);
    fs.rmSync(path.join(modelsDir(), "tiny.gguf"));
    expect(thrown(() => removeCachedModel("tiny", { env })).message).toMatch(/the model cache \(.*\) is empty/);
  });
});
