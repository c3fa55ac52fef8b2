import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AbortError } from "../../src/engine/errors.js";
import { pullModel, type PullOptions } from "../../src/store/pull.js";
import { startFakeHub, sha256Hex, type FakeHub, storeError } from "../helpers/fakeHub.js";
import { modelFile } from "../helpers/paths.js";

// hermetic: no ambient proxy may catch 127.0.0.1
for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name];

const Q8 = fs.readFileSync(modelFile("TinyStories-656K-Q8_0.gguf"));
const Q4 = fs.readFileSync(modelFile("TinyStories-656K-Q4_0.gguf"));
const F32_260K = fs.readFileSync(modelFile("stories260K.gguf"));

let dir: string;
let hub: FakeHub;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-store-"));
  hub = await startFakeHub({
    "test/tiny-GGUF": {
      files: { "tinystories-656k-q8_0.gguf": Q8, "tinystories-656k-q4_0.gguf": Q4, "mmproj-tinystories-q8_0.gguf": F32_260K },
      extraSiblings: ["README.md", ".gitattributes"],
    },
    "test/gated": { files: { "stories260K.gguf": F32_260K }, gatedToken: "hf_secret" },
  });
});
afterEach(async () => {
  await hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<PullOptions> = {}, env: NodeJS.ProcessEnv = {}): PullOptions {
  return { env: { HF_ENDPOINT: hub.endpoint, LAYERSTREAM_MODELS: path.join(dir, "models"), ...env }, retryDelayMs: 10, ...extra };
}


const modelsDir = () => path.join(dir, "models");
const listing = () => (fs.existsSync(modelsDir()) ? fs.readdirSync(modelsDir()).sort() : []);

describe("pullModel", () => {
  it("follows the hub's 302 to the cdn, checks the announced sha256 and caches the file under its own name", async () => {
    const result = await pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options());
    expect(result).toMatchObject({ status: "downloaded", name: "tinystories-656k-q8_0.gguf", nBytes: Q8.length, sha256: sha256Hex(Q8), info: { architecture: "llama", quant: "Q8_0" } });
    expect(fs.readFileSync(result.path).equals(Q8)).toBe(true);
    expect(listing()).toEqual(["tinystories-656k-q8_0.gguf", "tinystories-656k-q8_0.gguf.json"]);
    expect(hub.requests.map((r) => r.server)).toEqual(["hub", "cdn"]);
  });

  it("hf:owner/repo:Q8_0 picks that file from the siblings list (not the mmproj one)", async () => {
    const result = await pullModel("hf:test/tiny-GGUF:Q8_0", options());
    expect(result.name).toBe("tinystories-656k-q8_0.gguf");
    expect(hub.requests[0].path).toBe("/api/models/test/tiny-GGUF");
    expect(fs.readFileSync(result.path).equals(Q8)).toBe(true);
  });

  it("resumes a cut download with Range in a later pull and gives a byte-identical file", async () => {
    hub.cutNext(1, 300_000);
    const first = await storeError(pullModel("hf:test/tiny-GGUF:Q8_0", options({ nRetries: 0 })));
    expect(first.code).toBe("NETWORK");
    expect(listing()).toEqual(["tinystories-656k-q8_0.gguf.part", "tinystories-656k-q8_0.gguf.part.json"]);
    const nBytesKept = fs.statSync(path.join(modelsDir(), "tinystories-656k-q8_0.gguf.part")).size;
    expect(nBytesKept).toBeGreaterThan(0);
    expect(nBytesKept).toBeLessThanOrEqual(300_000);

    const second = await pullModel("hf:test/tiny-GGUF:Q8_0", options());
    expect(fs.readFileSync(second.path).equals(Q8)).toBe(true);
    const [cut, resumed] = hub.fileRequests();
    expect(cut.headers.range).toBeUndefined();
    expect(resumed.headers.range).toBe(`bytes=${nBytesKept}-`);
    expect(listing()).toEqual(["tinystories-656k-q8_0.gguf", "tinystories-656k-q8_0.gguf.json"]);
  });

  it("retries a dropped connection within one pull, resuming with Range", async () => {
    hub.cutNext(2, 200_000);
    const logs: string[] = [];
    const result = await pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options({ log: (l) => logs.push(l) }));
    expect(fs.readFileSync(result.path).equals(Q8)).toBe(true);
    const ranges = hub.fileRequests().map((r) => r.headers.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-$/);
    expect(logs.some((l) => /retrying/.test(l))).toBe(true);
  });

  it("keeps the .part when aborted through the signal, then resumes it", async () => {
    const abort = new AbortController();
    const onProgress: PullOptions["onProgress"] = (p) => {
      if (p.nBytesDone > 100_000) abort.abort();
    };
    const error = await pullModel("hf:test/tiny-GGUF:Q8_0", options({ signal: abort.signal, onProgress })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toMatch(/cancelled .*tinystories-656k-q8_0\.gguf\.part is kept/);
    const nBytesKept = fs.statSync(path.join(modelsDir(), "tinystories-656k-q8_0.gguf.part")).size;
    expect(nBytesKept).toBeGreaterThan(0);
    const result = await pullModel("hf:test/tiny-GGUF:Q8_0", options());
    expect(fs.readFileSync(result.path).equals(Q8)).toBe(true);
    expect(hub.fileRequests().at(-1)!.headers.range).toBe(`bytes=${nBytesKept}-`);
  });

  it("starts over when the server answers a Range request with 200", async () => {
    hub.cutNext(1, 250_000);
    await storeError(pullModel("hf:test/tiny-GGUF:Q8_0", options({ nRetries: 0 })));
    hub.ignoreRange = true;
    const result = await pullModel("hf:test/tiny-GGUF:Q8_0", options());
    expect(fs.readFileSync(result.path).equals(Q8)).toBe(true);
    expect(hub.fileRequests().at(-1)!.headers.range).toMatch(/^bytes=/);
  });

  it("starts over when the remote file changed since the .part was started (sha256/ETag differ)", async () => {
    hub.cutNext(1, 250_000);
    await storeError(pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options({ nRetries: 0 })));
    hub.repos["test/tiny-GGUF"].files["tinystories-656k-q8_0.gguf"] = Q4; // a new upload under the same name
    const result = await pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options());
    expect(fs.readFileSync(result.path).equals(Q4)).toBe(true);
    const ranges = hub.fileRequests().map((r) => r.headers.range);
    expect(ranges[1]).toMatch(/^bytes=/); // asked to resume, saw another file
    expect(ranges[2]).toBeUndefined(); // and downloaded it whole
  });

  it("a wrong announced sha256 deletes the download and names both hashes", async () => {
    hub.repos["test/tiny-GGUF"].files["tinystories-656k-q8_0.gguf"] = { bytes: Q8, linkedSha256: "ab".repeat(32) };
    const error = await storeError(pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options()));
    expect(error.code).toBe("SHA256_MISMATCH");
    expect(error.message).toContain(`expected ${"ab".repeat(32)}, got ${sha256Hex(Q8)}`);
    expect(listing()).toEqual([]);
  });

  it("checks --sha256 when given, and rejects one that is not 64 hex digits", async () => {
    const wrong = "0".repeat(64);
    const error = await storeError(pullModel("hf:test/tiny-GGUF/tinystories-656k-q4_0.gguf", options({ sha256: wrong })));
    expect(error.message).toContain(`expected ${wrong}, got ${sha256Hex(Q4)}`);
    expect(listing()).toEqual([]);
    expect((await storeError(pullModel("hf:test/tiny-GGUF:Q4_0", options({ sha256: "abc" })))).code).toBe("BAD_SHA256");
    const ok = await pullModel("hf:test/tiny-GGUF/tinystories-656k-q4_0.gguf", options({ sha256: sha256Hex(Q4).toUpperCase() }));
    expect(ok.status).toBe("downloaded");
  });

  it("an HTML page instead of a GGUF file fails as NOT_GGUF and caches nothing", async () => {
    hub.plainFiles["page.gguf"] = { bytes: Buffer.from("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"), contentType: "text/html" };
    const error = await storeError(pullModel(`${hub.cdnOrigin}/files/page.gguf`, options()));
    expect(error.code).toBe("NOT_GGUF");
    expect(error.message).toMatch(/did not send a GGUF file: it sent an HTML page \(text\/html\) starting "<!DOCTYPE html>"/);
    expect(listing()).toEqual([]);
  });

  it("a file that starts like a GGUF but is cut short fails the header check and caches nothing", async () => {
    hub.plainFiles["short.gguf"] = { bytes: Q8.subarray(0, 4096) };
    const error = await storeError(pullModel(`${hub.cdnOrigin}/files/short.gguf`, options()));
    expect(error.code).toBe("NOT_GGUF");
    expect(error.message).toMatch(/is not a valid GGUF file \((TRUNCATED|TENSOR_OUT_OF_BOUNDS|STRING_TOO_LONG|COUNT_TOO_LARGE)/);
    expect(listing()).toEqual([]);
  });

  it("says a file already in the cache is there and downloads nothing", async () => {
    await pullModel("hf:test/tiny-GGUF:Q8_0", options());
    const nRequests = hub.fileRequests().length;
    const logs: string[] = [];
    const again = await pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options({ log: (l) => logs.push(l) }));
    expect(again.status).toBe("already-cached");
    expect(hub.fileRequests()).toHaveLength(nRequests);
    expect(logs.join("\n")).toMatch(/already in the cache/);
  });

  it("sends HF_TOKEN to the hub only, never to the cdn it redirects to; without it a gated repo says to set HF_TOKEN", async () => {
    const denied = await storeError(pullModel("hf:test/gated/stories260K.gguf", options()));
    expect(denied.code).toBe("ACCESS_DENIED");
    expect(denied.message).toMatch(/HTTP 401.*gated.*set HF_TOKEN/);
    const result = await pullModel("hf:test/gated/stories260K.gguf", options({}, { HF_TOKEN: "hf_secret" }));
    expect(fs.readFileSync(result.path).equals(F32_260K)).toBe(true);
    const withToken = hub.requests.slice(1);
    expect(withToken.map((r) => [r.server, r.headers.authorization])).toEqual([
      ["hub", "Bearer hf_secret"],
      ["cdn", undefined],
    ]);
  });

  it("404 names the URL", async () => {
    const error = await storeError(pullModel("hf:test/tiny-GGUF/missing.gguf", options()));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe(`not found (HTTP 404): ${hub.endpoint}/test/tiny-GGUF/resolve/main/missing.gguf`);
    expect((await storeError(pullModel("hf:test/nope:Q8_0", options()))).message).toMatch(/repository test\/nope not found/);
  });

  it("a refused connection is one NETWORK error naming the URL", async () => {
    const url = `${hub.cdnOrigin}/files/x.gguf`;
    await hub.close();
    const error = await storeError(pullModel(url, options()));
    expect(error.code).toBe("NETWORK");
    expect(error.message).toMatch(new RegExp(`^cannot fetch ${url.replace(/[.]/g, "\\.")}: .*ECONNREFUSED`));
  });

  it("a cache folder that cannot be created (its parent is a regular file) is CACHE_NOT_WRITABLE naming the folder", async () => {
    const blocker = path.join(dir, "not-a-folder");
    fs.writeFileSync(blocker, "x");
    const cacheDir = path.join(blocker, "models");
    const error = await storeError(pullModel("hf:test/tiny-GGUF:Q8_0", options({}, { LAYERSTREAM_MODELS: cacheDir })));
    expect(error.code).toBe("CACHE_NOT_WRITABLE");
    expect(error.message).toContain(`cannot write to the model cache folder ${cacheDir}`);
  });

  it("refuses to overwrite a cached file of the same name that came from another URL", async () => {
    await pullModel("hf:test/tiny-GGUF/tinystories-656k-q8_0.gguf", options());
    hub.plainFiles["tinystories-656k-q8_0.gguf"] = { bytes: Q4 };
    const error = await storeError(pullModel(`${hub.cdnOrigin}/files/tinystories-656k-q8_0.gguf`, options()));
    expect(error.code).toBe("NAME_TAKEN");
    expect(error.message).toMatch(/layerstream rm tinystories-656k-q8_0\.gguf/);
  });
});
