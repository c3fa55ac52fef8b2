/**
 * Seeded fuzzing: corrupt or truncate valid files many times; the parser must either
 * succeed with a self-consistent result or throw GgufFormatError — never anything else.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { GgufFormatError, parseGguf } from "../../../src/engine/gguf/reader.js";
import type { GgufFile } from "../../../src/engine/gguf/types.js";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { seededRandom } from "../../helpers/ggufBytes.js";
import { modelFile } from "../../helpers/paths.js";

/** u64 values that hit boundaries: counts and lengths that overflow, sign bits, page sizes. */
const INTERESTING_U64 = [0n, 1n, 2n, 3n, 5n, 13n, 255n, 4096n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 2n ** 60n, 2n ** 63n, 2n ** 64n - 1n];

function smallValidFile(): Uint8Array {
  const w = new GgufWriter()
    .setString("general.architecture", "llama")
    .setUint32("llama.block_count", 1)
    .setFloat32("llama.rope.freq_base", 10000)
    .setInt8("i8", -1)
    .setUint16("u16", 9)
    .setInt16("i16", -9)
    .setInt32("i32", -3)
    .setUint64("u64", 77n)
    .setInt64("i64", -77n)
    .setFloat64("f64", 0.5)
    .setBool("bool", true)
    .setUint8("u8", 1)
    .setArray("tokenizer.ggml.tokens", GgufValueType.STRING, ["<unk>", "<s>", "</s>", "▁a", "b"])
    .setArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, [0, 0, 0, -1, -2])
    .setArray("nested", GgufValueType.ARRAY, [{ itemType: GgufValueType.UINT8, items: [1, 2, 3] }])
    .addTensor("token_embd.weight", [32, 5], GgmlType.Q8_0, new Uint8Array(34 * 5).fill(3))
    .addTensor("blk.0.attn_norm.weight", [32], GgmlType.F32, new Uint8Array(128).fill(1))
    .addTensor("blk.0.ffn_up.weight", [32, 2, 1, 1], GgmlType.F16, new Uint8Array(128).fill(2));
  return w.toBytes();
}

function checkConsistent(file: GgufFile): void {
  for (const t of file.tensors) {
    expect(t.fileOffset + t.nBytes).toBeLessThanOrEqual(file.fileBytes);
    expect(t.fileOffset % file.alignment).toBe(0);
    expect(Number.isSafeInteger(t.nBytes)).toBe(true);
  }
}

type Mutation = (bytes: Uint8Array, random: () => number, headerEnd: number) => Uint8Array;

const randomInt = (random: () => number, n: number) => Math.floor(random() * n);

const MUTATIONS: Mutation[] = [
  // flip 1..4 random bits in the header
  (bytes, random, headerEnd) => {
    for (let i = 1 + randomInt(random, 4); i > 0; i--) bytes[randomInt(random, headerEnd)] ^= 1 << randomInt(random, 8);
    return bytes;
  },
  // overwrite a random header byte
  (bytes, random, headerEnd) => {
    bytes[randomInt(random, headerEnd)] = randomInt(random, 256);
    return bytes;
  },
  // write a boundary u64 at a random header position (hits counts, lengths, dims, offsets)
  (bytes, random, headerEnd) => {
    const at = randomInt(random, Math.max(1, headerEnd - 8));
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, INTERESTING_U64[randomInt(random, INTERESTING_U64.length)], true);
    return bytes;
  },
  // truncate anywhere
  (bytes, random) => bytes.subarray(0, randomInt(random, bytes.length)),
];

/** Applies `iterations` seeded mutations to copies of `original`; returns error counts by code. */
function fuzz(original: Uint8Array, seed: number, iterations: number): Map<string, number> {
  const random = seededRandom(seed);
  const headerEnd = parseGguf(original).dataOffset;
  const codes = new Map<string, number>();
  const scratch = new Uint8Array(original.length);
  for (let i = 0; i < iterations; i++) {
    scratch.set(original);
    const mutate = MUTATIONS[randomInt(random, MUTATIONS.length)];
    const mutated = mutate(scratch, random, headerEnd);
    try {
      checkConsistent(parseGguf(mutated));
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof GgufFormatError)) {
        throw new Error(`iteration ${i} (seed ${seed}) escaped with ${String(error)}`, { cause: error });
      }
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    }
  }
  return codes;
}

describe("fuzzing the parser", () => {
  it("a small synthetic file: 4000 mutations, only GgufFormatError escapes", () => {
    const codes = fuzz(smallValidFile(), 1234, 4000);
    // the fuzzer must reach many distinct checks, or it is not testing much
    expect(codes.size).toBeGreaterThanOrEqual(12);
    expect(codes.get("TRUNCATED") ?? 0).toBeGreaterThan(0);
    expect(codes.get("COUNT_TOO_LARGE") ?? 0).toBeGreaterThan(0);
  });

  it("the real stories260K header: 400 mutations, only GgufFormatError escapes", () => {
    const original = new Uint8Array(fs.readFileSync(modelFile("stories260K.gguf")));
    const codes = fuzz(original, 99, 400);
    expect(codes.size).toBeGreaterThanOrEqual(4);
  });
});
