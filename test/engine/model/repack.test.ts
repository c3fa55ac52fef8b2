/**
 * Repacked weights (ModelOpenOptions.repack, ComputeBackend.pack): a model whose resident matrices
 * were packed for the native matmul gives the same logits, bit for bit, as the same model read in
 * the file's order — prompt and decode steps — and packing happens where the kernels read it
 * (AVX-512: Q4_0, IQ4_NL and Q4_K with whole 16-row tiles), never on the tied embeddings. Matrices
 * the kernels read as stored (F16, Q8_0) are resident copies instead (ComputeBackend.residentCopy),
 * with the same logits too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { Model } from "../../../src/engine/model/model.js";
import { Session } from "../../../src/engine/session.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../../../src/engine/gguf/syntheticModel.js";
import { loadNative } from "../../../src/engine/native/loadNative.js";
import { nativeBackend } from "../../../src/engine/backend/nativeBackend.js";

const addon = loadNative();
/** 32 K/V rows (128 for Q4_K), 64 and 128 rows, a 320-token vocabulary: every matrix whole 16-row tiles */
const BASE = { nEmbd: 64, nLayer: 3, nHead: 4, nHeadKv: 2, nFf: 128, nVocab: 320, seed: 11, weightScale: 2 } as const;
const CASES: ReadonlyArray<readonly [string, SyntheticModelSpec]> = [
  ["Q4_0", { ...BASE, weightType: GgmlType.Q4_0 }],
  ["IQ4_NL", { ...BASE, weightType: GgmlType.IQ4_NL, outputType: GgmlType.Q4_0 }],
  ["Q4_0, tied embeddings", { ...BASE, weightType: GgmlType.Q4_0, tiedEmbeddings: true }],
  ["Q4_K", { ...BASE, nEmbd: 256, nFf: 512, weightType: GgmlType.Q4_K }],
  ["F16", { ...BASE, weightType: GgmlType.F16 }],
  ["Q8_0", { ...BASE, weightType: GgmlType.Q8_0 }],
];
/** types the AVX-512 path packs */
const PACKED_TYPES = ["Q4_0", "IQ4_NL", "Q4_K"];
const PROMPT = [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57];
const DECODE = [60, 61, 62, 63];

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-repack-"));
  for (const [name, spec] of CASES) await writeSyntheticModel(path.join(dir, `${name}.gguf`), spec);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function logitsOf(file: string, repack: boolean): Promise<{ logits: Float32Array[]; packed: boolean[]; copied: boolean[] }> {
  if (!addon) throw new Error("the native addon does not load (node native/simd/install.mjs)");
  const backend = nativeBackend(addon);
  // the arrays the backend's residentCopy returned
  const copies = new Set<Uint8Array>();
  const residentCopy = (weight: Uint8Array) => {
    const copy = backend.residentCopy!(weight);
    copies.add(copy);
    return copy;
  };
  using model = Model.open(file, { backend: { ...backend, residentCopy }, repack });
  const source = model.residentLayers();
  const layer = source.bind(0);
  const matrices = [layer.wq, layer.wk, layer.ffnDown, model.head.output];
  const packed = matrices.map((w) => w.matmulType !== undefined);
  const copied = matrices.map((w) => copies.has(w.bytes));
  await using runner = model.createLocalRunner(source);
  const session = new Session(model, runner, 1);
  const logits = [Float32Array.from(await session.evaluate(PROMPT))];
  for (const token of DECODE) logits.push(Float32Array.from(await session.evaluate([token])));
  return { logits, packed, copied };
}

describe("repack", () => {
  for (const [name] of CASES) {
    it(`${name}: packed weights give the same logits as the file's order`, async () => {
      const file = path.join(dir, `${name}.gguf`);
      const plain = await logitsOf(file, false);
      const packed = await logitsOf(file, true);
      expect(plain.packed).toEqual([false, false, false, false]);
      expect(plain.copied).toEqual([false, false, false, false]);
      const packs = addon!.capabilities().isa === "avx512" && PACKED_TYPES.some((type) => name.startsWith(type));
      // the tied output is the embeddings, which get_rows reads as stored
      const tied = name.includes("tied");
      expect(packed.packed).toEqual([packs, packs, packs, packs && !tied]);
      // every matrix not packed is a resident copy (the tied output stays the embeddings)
      expect(packed.copied).toEqual([!packs, !packs, !packs, !packs && !tied]);
      for (let step = 0; step < plain.logits.length; step++) {
        expect(Buffer.from(packed.logits[step].buffer).equals(Buffer.from(plain.logits[step].buffer)), `step ${step}`).toBe(true);
      }
    });
  }
});
