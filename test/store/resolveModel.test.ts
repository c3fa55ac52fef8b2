import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveModel } from "../../src/store/resolveModel.js";
import { pullModel } from "../../src/store/pull.js";
import { startFakeHub, type FakeHub, storeError } from "../helpers/fakeHub.js";
import { BUILTIN_MODELS_DIR, modelFile } from "../helpers/paths.js";

for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name];

const Q4 = fs.readFileSync(modelFile("TinyStories-656K-Q4_0.gguf"));
let dir: string;
let hub: FakeHub;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-resolve-"));
  hub = await startFakeHub({ "test/tiny-GGUF": { files: { "tinystories-656k-q4_0.gguf": Q4 } } });
  env = { HF_ENDPOINT: hub.endpoint, LAYERSTREAM_MODELS: path.join(dir, "models") };
});
afterEach(async () => {
  await hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});


describe("resolveModel", () => {
  it("no spec → the built-in default, found from the package root", async () => {
    const resolved = await resolveModel(undefined, { env });
    expect(resolved).toEqual({ path: path.join(BUILTIN_MODELS_DIR, "TinyStories-656K-Q8_0.gguf"), source: "default", name: "TinyStories-656K-Q8_0.gguf" });
    expect(fs.existsSync(resolved.path)).toBe(true);
  });

  it("an existing file path → itself", async () => {
    const file = modelFile("TinyStories-656K-F16.gguf");
    expect(await resolveModel(file, { env })).toEqual({ path: file, source: "path", name: "TinyStories-656K-F16.gguf" });
  });

  it("a built-in model's name, with or without .gguf → the file in models/", async () => {
    for (const spec of ["stories260K", "stories260K.gguf", "TinyStories-656K-Q8_0"]) {
      const resolved = await resolveModel(spec, { env });
      expect(resolved.source).toBe("builtin");
      expect(resolved.path).toBe(path.join(BUILTIN_MODELS_DIR, spec.endsWith(".gguf") ? spec : `${spec}.gguf`));
    }
  });

  it("a source is pulled on first use, then found in the cache by its source or file name without the network", async () => {
    const first = await resolveModel("hf:test/tiny-GGUF:Q4_0", { env });
    expect(first).toMatchObject({ source: "pulled", name: "tinystories-656k-q4_0.gguf" });
    expect(fs.readFileSync(first.path).equals(Q4)).toBe(true);
    const nRequests = hub.requests.length;
    await hub.close(); // offline from here
    expect(await resolveModel("hf:test/tiny-GGUF:Q4_0", { env })).toEqual({ ...first, source: "cache" });
    expect(await resolveModel("hf:test/tiny-GGUF/tinystories-656k-q4_0.gguf", { env })).toEqual({ ...first, source: "cache" });
    expect(await resolveModel("tinystories-656k-q4_0", { env })).toEqual({ ...first, source: "cache" });
    expect(await resolveModel("tinystories-656k-q4_0.gguf", { env })).toEqual({ ...first, source: "cache" });
    expect(hub.requests).toHaveLength(nRequests);
  });

  it("passes progress and log through while pulling", async () => {
    const progress: number[] = [];
    const logs: string[] = [];
    await resolveModel(`hf:test/tiny-GGUF/tinystories-656k-q4_0.gguf`, { env, onProgress: (p) => progress.push(p.nBytesDone), log: (l) => logs.push(l) });
    expect(progress.at(-1)).toBe(Q4.length);
    expect(logs.some((l) => l.startsWith("saved tinystories-656k-q4_0.gguf"))).toBe(true);
  });

  it("an unknown name lists the cached and built-in names and says how to give a path or a source", async () => {
    await pullModel("hf:test/tiny-GGUF:Q4_0", { env });
    const error = await storeError(resolveModel("llama3", { env }));
    expect(error.code).toBe("UNKNOWN_MODEL");
    expect(error.message).toMatch(/^unknown model "llama3": .*cached: tinystories-656k-q4_0\.gguf; built-in: TinyStories-656K-Q8_0\.gguf, stories260K\.gguf\).*path.*hf:owner\/repo:Q4_K_M/);
  });

  it("a path-looking spec that does not exist is 'model file not found'", async () => {
    for (const spec of ["./nope/model.gguf", "missing.gguf"]) {
      const error = await storeError(resolveModel(spec, { env }));
      expect(error.code).toBe("MODEL_FILE_NOT_FOUND");
      expect(error.message).toBe(`model file not found: ${path.resolve(spec)}`);
    }
  });
});
