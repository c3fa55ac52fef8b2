/**
 * Flash attention (llama.cpp's CPU numerics): the TypeScript reference against ggml's own
 * ggml_flash_attn_ext (sha256 of its output bytes, computed with node-llama-cpp's CPU library by
 * fixtures/make-flash-golden.ts) on cases covering the one-chunk, tiled and split-KV paths; an
 * F32 cache read as halves; the native kernel bit-identical on every ISA path and thread count.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { AttentionScratch, attentionTypeScript } from "../../../src/engine/model/attention.js";
import { flashAttentionTypeScript } from "../../../src/engine/model/flashAttention.js";
import { nativeBackend } from "../../../src/engine/backend/nativeBackend.js";
import type { NativeIsa } from "../../../src/engine/native/addonTypes.js";
import { describeNative, mismatches } from "../native/helpers.js";
import { FLASH_CASES, flashInputs, type FlashCase } from "./fixtures/flashCases.js";

const GOLDEN = JSON.parse(fs.readFileSync(new URL("./fixtures/flash-golden.json", import.meta.url), "utf8")) as Record<string, string>;

function shapeOf(c: FlashCase) {
  return { nHead: c.nHead, nHeadKv: c.nHeadKv, headDim: c.headDim, window: c.window, flashKvChunks: c.kvChunks };
}

function reference(c: FlashCase, kvType: "f16" | "f32" = "f16"): Float32Array {
  const { q, cache } = flashInputs(c, kvType);
  const out = new Float32Array(c.nTokens * c.nHead * c.headDim);
  flashAttentionTypeScript(out, q, cache, 0, c.position, c.nTokens, shapeOf(c), new AttentionScratch(), c.kvChunks);
  return out;
}

const sha256 = (x: Float32Array) => createHash("sha256").update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest("hex");

describe("flashAttentionTypeScript", () => {
  it("has a golden for every case (a missing fixture fails)", () => {
    expect(Object.keys(GOLDEN).sort()).toEqual(FLASH_CASES.map((c) => c.name).sort());
  });

  it.each(FLASH_CASES.map((c) => [c.name, c] as const))("%s: the bytes of llama.cpp's ggml_flash_attn_ext", (_name, c) => {
    expect(sha256(reference(c))).toBe(GOLDEN[c.name]);
  });

  it("reads an F32 cache as halves, as llama.cpp casts K and V to F16", () => {
    for (const c of FLASH_CASES.slice(0, 3)) expect(sha256(reference(c, "f32"))).toBe(GOLDEN[c.name]);
  });

  it("differs from the classic path (half accumulation), but is the same attention", () => {
    const c = FLASH_CASES[0];
    const { q, cache } = flashInputs(c);
    const classic = new Float32Array(c.nTokens * c.nHead * c.headDim);
    attentionTypeScript(classic, q, cache, 0, c.position, c.nTokens, { nHead: c.nHead, nHeadKv: c.nHeadKv, headDim: c.headDim }, new AttentionScratch());
    const flash = reference(c);
    expect(mismatches(flash, classic).length).toBeGreaterThan(0);
    for (let i = 0; i < flash.length; i++) expect(Math.abs(flash[i] - classic[i])).toBeLessThan(2e-2);
  });
});

describeNative("native flash attention", (addon) => {
  const initial = addon.capabilities();
  afterAll(() => {
    addon.setIsa(initial.isa);
    addon.setThreads(initial.threads);
  });

  it.each(initial.availableIsas as readonly NativeIsa[])("%s: bit-identical to the TypeScript reference, 1 and 2 threads", (isa) => {
    addon.setIsa(isa);
    for (const c of FLASH_CASES) {
      const expected = reference(c);
      const { q, cache } = flashInputs(c);
      const { keys, values } = cache.raw(0) as { keys: Uint16Array; values: Uint16Array };
      for (const threads of [1, 2]) {
        addon.setThreads(threads);
        const actual = new Float32Array(expected.length).fill(Number.NaN);
        addon.flashAttention(actual, q, keys, values, c.position, c.nTokens, c.nHead, c.nHeadKv, c.headDim, c.contextSize, Math.fround(1 / Math.sqrt(c.headDim)), c.window ?? 0, c.kvChunks);
        expect(mismatches(actual, expected), `${isa} ${c.name} ${threads} threads`).toEqual([]);
      }
    }
  });

  it("the native backend runs it when the shape asks for flash attention", () => {
    addon.setIsa(initial.isa);
    const c = FLASH_CASES[6];
    const { q, cache } = flashInputs(c);
    const out = new Float32Array(c.nTokens * c.nHead * c.headDim);
    nativeBackend(addon).attention(out, q, cache, 0, c.position, c.nTokens, shapeOf(c), new AttentionScratch());
    expect(sha256(out)).toBe(GOLDEN[c.name]);
  });

  it("rejects a bad window or chunk count with a code", () => {
    const c = FLASH_CASES[0];
    const { q, cache } = flashInputs(c);
    const { keys, values } = cache.raw(0) as { keys: Uint16Array; values: Uint16Array };
    const out = new Float32Array(c.nTokens * c.nHead * c.headDim);
    const call = (window: number, chunks: number) => () => addon.flashAttention(out, q, keys, values, 0, c.nTokens, c.nHead, c.nHeadKv, c.headDim, c.contextSize, 0.125, window, chunks);
    expect(call(-1, 1)).toThrow(/window/);
    expect(call(0, 0)).toThrow(/kvChunks/);
  });
});
