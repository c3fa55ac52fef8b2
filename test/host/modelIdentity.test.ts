/**
 * Model identity: the sampled fingerprint and its blind spot (a zeroed MiB between its chunks),
 * the full sha256 cached by (device, inode, size, mtime), and comparisons that use the full
 * hashes when both sides have one and say which check decided.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareModels, computeModelIdentity, describeIdentity, IDENTITY_CHUNK_BYTES, IDENTITY_CHUNKS, sameModel, withFullSha256 } from "../../src/host/modelIdentity.js";
import { cachedFullSha256, fullSha256, verifyCacheDir } from "../../src/host/fullHash.js";
import { verifyModelFile } from "../../src/api/verifyModelFile.js";
import { decodeModelIdentity, encodeControl } from "../../src/protocol/control.js";
import { writeModel, zeroedCopy } from "../helpers/hostileModels.js";

let dir: string;
let original: string;
let zeroed: string;
const savedCache = process.env.XDG_CACHE_HOME;

/** Where a 1 MiB run of zeros fits between two of the fingerprint's sampled chunks. */
function gapBetweenChunks(fileBytes: number): number {
  const span = fileBytes - IDENTITY_CHUNK_BYTES;
  const chunk7 = Math.floor((span * 7) / (IDENTITY_CHUNKS - 1));
  const chunk8 = Math.floor((span * 8) / (IDENTITY_CHUNKS - 1));
  const start = chunk7 + IDENTITY_CHUNK_BYTES + 4096;
  if (start + (1 << 20) >= chunk8) throw new Error(`the file is too small for a 1 MiB gap (${fileBytes} bytes)`);
  return start;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-identity-"));
  process.env.XDG_CACHE_HOME = path.join(dir, "cache");
  original = await writeModel(path.join(dir, "model.gguf"), { nEmbd: 512, nLayer: 8, nHead: 8, nHeadKv: 8, nFf: 1536 });
  zeroed = zeroedCopy(original, path.join(dir, "zeroed.gguf"), gapBetweenChunks(fs.statSync(original).size), 1 << 20);
});
afterAll(() => {
  process.env.XDG_CACHE_HOME = savedCache;
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha256Of = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("the sampled fingerprint", () => {
  it("does not see a MiB zeroed between its chunks (why the full hash exists)", () => {
    const a = computeModelIdentity(original, 4096, 8);
    const b = computeModelIdentity(zeroed, 4096, 8);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(sameModel(a, b)).toBe(true);
    expect(compareModels(a, b)).toEqual({ same: true, check: "sampled fingerprint" });
    expect(sha256Of(original)).not.toBe(sha256Of(zeroed));
  });
});

describe("the full sha256", () => {
  it("is computed once, cached by (device, inode, size, mtime), and forgotten when the file changes", async () => {
    expect(cachedFullSha256(original)).toBeUndefined();
    const first = await fullSha256(original);
    expect(first).toEqual({ sha256: sha256Of(original), cached: false });
    expect(await fullSha256(original)).toEqual({ sha256: first.sha256, cached: true });
    expect(fs.readdirSync(verifyCacheDir())).toHaveLength(1);
    const touched = path.join(dir, "touched.gguf");
    fs.copyFileSync(original, touched);
    await fullSha256(touched);
    fs.utimesSync(touched, new Date(), new Date(Date.now() + 60_000));
    expect(cachedFullSha256(touched)).toBeUndefined(); // a new mtime is a new key
  });

  it("joins the identity when cached; compareModels then uses it and says so", async () => {
    await fullSha256(zeroed);
    const a = computeModelIdentity(original, 4096, 8);
    const b = computeModelIdentity(zeroed, 4096, 8);
    expect(a.fullSha256).toBe(sha256Of(original));
    expect(compareModels(a, b)).toEqual({ same: false, check: "full sha256", reason: "the full sha256 hashes differ" });
    expect(sameModel(a, b)).toBe(false);
    expect(compareModels(a, a)).toEqual({ same: true, check: "full sha256" });
    expect(describeIdentity(a)).toMatch(new RegExp(`, sha256 ${a.fullSha256!.slice(0, 16)}, 8 layers`));
  });

  it("falls back to the sampled fingerprint when only one side has it; --verify full refuses that, naming the side", async () => {
    const withFull = await withFullSha256(computeModelIdentity(original, 4096, 8), original);
    const { fullSha256: _, ...sampledOnly } = withFull;
    expect(compareModels(withFull, sampledOnly)).toEqual({ same: true, check: "sampled fingerprint" });
    const strict = compareModels(withFull, sampledOnly, "full");
    expect(strict.same).toBe(false);
    expect(strict.reason).toMatch(/--verify full: the worker has no full sha256 \(run layerstream verify on its file, or start it with --verify full\)/);
    expect(compareModels(sampledOnly, sampledOnly, "full").reason).toMatch(/the root and the worker have no full sha256/);
  });

  it("travels in the identity as an optional field, checked on arrival", () => {
    const identity = computeModelIdentity(original, 4096, 8);
    expect(decodeModelIdentity(encodeControl(identity))).toEqual(identity);
    const { fullSha256: _, ...sampledOnly } = identity;
    expect(decodeModelIdentity(encodeControl(sampledOnly))).toEqual(sampledOnly);
    expect(() => decodeModelIdentity(encodeControl({ ...identity, fullSha256: "xyz" }))).toThrow(/fullSha256 should be 64 lower-case hex digits/);
  });

  it("a pulled file is checked against the sha256 recorded at download", async () => {
    const pulled = path.join(dir, "pulled.gguf");
    fs.copyFileSync(original, pulled);
    const sidecar = (sha256: string) => fs.writeFileSync(pulled.replace(/\.gguf$/, ".gguf.json"), JSON.stringify({ source: "hf:x/y", url: "https://example/y.gguf", sha256, nBytes: 1, downloadedAt: "" }));
    sidecar(sha256Of(original));
    expect((await verifyModelFile(pulled)).recordedSha256).toBe(sha256Of(original));
    sidecar("0".repeat(64));
    await expect(verifyModelFile(pulled)).rejects.toThrow(/has sha256 [0-9a-f]{64}, but 0{64} was recorded when it was downloaded/);
  });
});
