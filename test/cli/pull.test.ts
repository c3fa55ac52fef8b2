/**
 * `layerstream pull`, `models` and `rm` as a user runs them: the built CLI (npm run build) in
 * its own process, against a fake Hugging Face on 127.0.0.1 (test/helpers/fakeHub.ts). Each
 * test has its own XDG_CACHE_HOME, removed afterwards. Nothing here touches the internet.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli, type CliResult } from "../helpers/cli.js";
import { sha256Hex, startFakeHub, startForwardProxy, type FakeHub } from "../helpers/fakeHub.js";
import { modelFile } from "../helpers/paths.js";

const Q8 = fs.readFileSync(modelFile("TinyStories-656K-Q8_0.gguf"));
const Q4 = fs.readFileSync(modelFile("TinyStories-656K-Q4_0.gguf"));
const F16 = fs.readFileSync(modelFile("TinyStories-656K-F16.gguf"));
const Q8_NAME = "tinystories-656k-q8_0.gguf";

let home: string;
let hub: FakeHub;

beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-pull-cli-"));
  hub = await startFakeHub({
    "test/TinyStories-656K-GGUF": {
      files: { [Q8_NAME]: Q8, "tinystories-656k-q4_0.gguf": Q4, "tinystories-656k-f16.gguf": F16, "mmproj-tinystories-656k-q8_0.gguf": F16 },
      extraSiblings: ["README.md"],
    },
    "test/gated-GGUF": { files: { [Q8_NAME]: Q8 }, gatedToken: "hf_cli_secret" },
  });
});
afterEach(async () => {
  await hub.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const cacheDir = () => path.join(home, "cache", "layerstream", "models");

/** The CLI with this test's cache and fake hub, and no proxy or token from the outside. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, {
    XDG_CACHE_HOME: path.join(home, "cache"),
    LAYERSTREAM_MODELS: "",
    HF_ENDPOINT: hub.endpoint,
    HF_TOKEN: "",
    HTTP_PROXY: "",
    http_proxy: "",
    HTTPS_PROXY: "",
    https_proxy: "",
    NO_PROXY: "",
    no_proxy: "",
    ...env,
  });
}

/** stderr holds exactly one line, the error, with no stack trace. */
function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split("\n").filter((l) => l.startsWith("layerstream: error:"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

function cachedNames(): string[] {
  return fs.existsSync(cacheDir()) ? fs.readdirSync(cacheDir()).sort() : [];
}

describe("layerstream pull", () => {
  it("hf:owner/repo:Q8_0 picks the Q8_0 file, prints plain progress per 10% and the path; models lists it; rm removes it", async () => {
    const pulled = await cli(["pull", "hf:test/TinyStories-656K-GGUF:Q8_0"]);
    expect(pulled.code).toBe(0);
    const filePath = path.join(cacheDir(), Q8_NAME);
    expect(pulled.stdout).toBe(`${filePath}\n`);
    expect(fs.readFileSync(filePath).equals(Q8)).toBe(true);
    // stderr is not a TTY here: plain lines, at most one per tenth (a big chunk can cross several)
    const percents = [...pulled.stderr.matchAll(/^layerstream: tinystories-656k-q8_0\.gguf: (\d+)% \(/gm)].map((m) => Number(m[1]));
    expect(percents.length).toBeGreaterThanOrEqual(2);
    expect(percents.at(-1)).toBe(100);
    expect(new Set(percents.map((p) => Math.floor(p / 10))).size).toBe(percents.length);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(pulled.stderr).toMatch(/saved tinystories-656k-q8_0\.gguf \(732 KiB, llama, Q8_0\)/);

    const again = await cli(["pull", "hf:test/TinyStories-656K-GGUF:Q8_0"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already in the cache/);

    const models = await cli(["models"]);
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/^tinystories-656k-q8_0\.gguf\s+732 KiB\s+llama\s+Q8_0\s+cache ← hf:test\/TinyStories-656K-GGUF:Q8_0$/m);
    expect(models.stdout).toMatch(/^stories260K\.gguf\s+1\.13 MiB\s+llama\s+F32\s+built-in$/m);
    const json = JSON.parse((await cli(["models", "--json"])).stdout);
    expect(json.modelsDir).toBe(cacheDir());
    expect(json.models).toContainEqual(expect.objectContaining({ name: Q8_NAME, kind: "cached", architecture: "llama", quant: "Q8_0", nBytes: Q8.length }));

    const removed = await cli(["rm", "tinystories-656k-q8_0"]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/^removed tinystories-656k-q8_0\.gguf \(732 KiB\)/);
    expect(cachedNames()).toEqual([]);
    expect((await cli(["models"])).stdout).not.toContain(Q8_NAME);
  });

  it("a download cut part-way fails in one line; the next pull resumes it with Range to a byte-identical file", async () => {
    hub.cutNext(1, 400_000);
    const cut = await cli(["pull", "--retries", "0", `hf:test/TinyStories-656K-GGUF/${Q8_NAME}`]);
    expectOneLineError(cut, /^layerstream: error: download of tinystories-656k-q8_0\.gguf interrupted after .* of 732 KiB: /);
    expect(cachedNames()).toEqual([`${Q8_NAME}.part`, `${Q8_NAME}.part.json`]);
    const nBytesKept = fs.statSync(path.join(cacheDir(), `${Q8_NAME}.part`)).size;
    expect(nBytesKept).toBeGreaterThan(0);

    const resumed = await cli(["pull", `hf:test/TinyStories-656K-GGUF/${Q8_NAME}`]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming tinystories-656k-q8_0\.gguf at /);
    expect(fs.readFileSync(path.join(cacheDir(), Q8_NAME)).equals(Q8)).toBe(true);
    expect(hub.fileRequests().map((r) => r.headers.range)).toEqual([undefined, `bytes=${nBytesKept}-`]);
  });

  it("a wrong --sha256 fails in one line naming both hashes, and nothing is cached", async () => {
    const wrong = "f".repeat(64);
    const result = await cli(["pull", "--sha256", wrong, `hf:test/TinyStories-656K-GGUF/tinystories-656k-q4_0.gguf`]);
    expectOneLineError(result, new RegExp(`sha256 mismatch .*: expected ${wrong}, got ${sha256Hex(Q4)}`));
    expect(cachedNames()).toEqual([]);
  });

  it("404 is one line naming the URL, exit 2", async () => {
    const url = `${hub.cdnOrigin}/files/missing.gguf`;
    const result = await cli(["pull", url]);
    expectOneLineError(result, new RegExp(`^layerstream: error: not found \\(HTTP 404\\): ${url.replace(/\./g, "\\.")}$`));
  });

  it("an HTML page instead of a GGUF fails in one line and nothing is cached", async () => {
    hub.plainFiles["login.gguf"] = { bytes: Buffer.from("<!DOCTYPE html><html><head><title>Login</title></head></html>"), contentType: "text/html; charset=utf-8" };
    const result = await cli(["pull", `${hub.cdnOrigin}/files/login.gguf`]);
    expectOneLineError(result, /did not send a GGUF file: it sent an HTML page \(text\/html\).*nothing was cached$/);
    expect(cachedNames()).toEqual([]);
  });

  it("HF_TOKEN goes to the hub and not to the cdn it redirects to; without it a gated repo says to set HF_TOKEN", async () => {
    const denied = await cli(["pull", "hf:test/gated-GGUF:Q8_0"]);
    expectOneLineError(denied, /access denied \(HTTP 401\).*gated.*set HF_TOKEN/);
    const result = await cli(["pull", "hf:test/gated-GGUF:Q8_0"], { HF_TOKEN: "hf_cli_secret" });
    expect(result.code).toBe(0);
    const sent = hub.requests.slice(1).map((r) => [r.server, r.path.split("?")[0], r.headers.authorization]);
    expect(sent).toEqual([
      ["hub", "/api/models/test/gated-GGUF", "Bearer hf_cli_secret"],
      ["hub", `/test/gated-GGUF/resolve/main/${Q8_NAME}`, "Bearer hf_cli_secret"],
      ["cdn", `/cdn/test/gated-GGUF/${Q8_NAME}`, undefined],
    ]);
  });

  it("goes through the proxy given by HTTP_PROXY", async () => {
    await using proxy = await startForwardProxy();
    const result = await cli(["pull", "hf:test/TinyStories-656K-GGUF:F16"], { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(cacheDir(), "tinystories-656k-f16.gguf")).equals(F16)).toBe(true);
    const hubHost = new URL(hub.endpoint).host;
    const cdnHost = new URL(hub.cdnOrigin).host;
    expect(proxy.targets.some((t) => t === hubHost || t.startsWith(hub.endpoint))).toBe(true);
    expect(proxy.targets.some((t) => t === cdnHost || t.startsWith(hub.cdnOrigin))).toBe(true);
  });

  it("a cache folder that cannot be created (XDG_CACHE_HOME is a regular file, which stops root too) is one line naming it", async () => {
    const blocker = path.join(home, "cache-is-a-file");
    fs.writeFileSync(blocker, "");
    const result = await cli(["pull", "hf:test/TinyStories-656K-GGUF:Q8_0"], { XDG_CACHE_HOME: blocker });
    expectOneLineError(result, new RegExp(`cannot write to the model cache folder ${path.join(blocker, "layerstream", "models").replace(/\./g, "\\.")}: `));
  });

  it("a network error is one line", async () => {
    const url = `${hub.cdnOrigin}/files/x.gguf`;
    await hub.close();
    expectOneLineError(await cli(["pull", url]), /^layerstream: error: cannot fetch .*ECONNREFUSED/);
  });
});

describe("layerstream rm", () => {
  it("an unknown name is one line listing the cached names; a built-in model cannot be removed", async () => {
    expect((await cli(["pull", "hf:test/TinyStories-656K-GGUF:Q4_0"])).code).toBe(0);
    expectOneLineError(await cli(["rm", "llama3"]), new RegExp(`no cached model named "llama3"; cached: tinystories-656k-q4_0\\.gguf \\(in ${cacheDir().replace(/\./g, "\\.")}\\)$`));
    expectOneLineError(await cli(["rm", "stories260K"]), /stories260K\.gguf is a built-in model .*cannot be removed/);
    expect(cachedNames()).toEqual(["tinystories-656k-q4_0.gguf", "tinystories-656k-q4_0.gguf.json"]);
  });
});
