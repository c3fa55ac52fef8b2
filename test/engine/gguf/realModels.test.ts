/** openGguf on every real GGUF in the repository (models/, test/fixtures/models/), and on files that are not GGUF. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openGguf, tensorData } from "../../../src/engine/gguf/reader.js";
import { getNumber, getString } from "../../../src/engine/gguf/metadata.js";
import { GgmlType, ggmlTypeName } from "../../../src/engine/ggml/types.js";
import { expectGgufError } from "../../helpers/ggufBytes.js";
import { modelFile, realModelNames } from "../../helpers/paths.js";

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-gguf-open-"));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

const ggufFiles = realModelNames();

/** Tensor type counts from the models README. */
const EXPECTED_TYPE_COUNTS: Record<string, Record<string, number>> = {
  "stories260K.gguf": { F32: 48 },
  "TinyStories-656K-Q8_0.gguf": { Q8_0: 15, F32: 5 },
  "TinyStories-656K-F32.gguf": { F32: 20 },
  "TinyStories-656K-F16.gguf": { F16: 15, F32: 5 },
  "TinyStories-656K-Q4_0.gguf": { Q4_0: 14, Q8_0: 1, F32: 5 },
  "TinyStories-656K-Q4_1.gguf": { Q4_1: 14, Q8_0: 1, F32: 5 },
  "TinyStories-656K-Q5_0.gguf": { Q5_0: 14, Q8_0: 1, F32: 5 },
  "TinyStories-656K-Q5_1.gguf": { Q5_1: 14, Q8_0: 1, F32: 5 },
};

describe("openGguf on the real models", () => {
  it("finds all 8 GGUF files", () => {
    expect(ggufFiles.sort()).toEqual(Object.keys(EXPECTED_TYPE_COUNTS).sort());
  });

  it.each(ggufFiles)("%s: v3, llama, expected tensor types, all tensor bytes inside the file", (relative) => {
    const fullPath = modelFile(relative);
    using file = openGguf(fullPath);
    expect(file.version).toBe(3);
    expect(file.fileBytes).toBe(fs.statSync(fullPath).size);
    expect(getString(file, "general.architecture")).toBe("llama");
    const typeCounts: Record<string, number> = {};
    for (const t of file.tensors) typeCounts[ggmlTypeName(t.type)] = (typeCounts[ggmlTypeName(t.type)] ?? 0) + 1;
    expect(typeCounts).toEqual(EXPECTED_TYPE_COUNTS[relative]);
    for (const t of file.tensors) {
      expect(t.fileOffset % file.alignment).toBe(0);
      expect(t.fileOffset + t.nBytes).toBeLessThanOrEqual(file.fileBytes);
      expect(tensorData(file, t).length).toBe(t.nBytes);
    }
    const nLayers = getNumber(file, "llama.block_count");
    expect(file.tensors.filter((t) => t.name.startsWith(`blk.${nLayers - 1}.`)).length).toBe(9);
  });

  it("stories260K: 48 tensors, token_embd.weight F32 [64, 512], first value matches the raw file bytes", () => {
    const fullPath = modelFile("stories260K.gguf");
    using file = openGguf(fullPath);
    expect(file.tensors.length).toBe(48);
    const embd = file.tensorsByName.get("token_embd.weight")!;
    expect(embd).toMatchObject({ type: GgmlType.F32, dims: [64, 512], nBytes: 64 * 512 * 4 });
    const raw = fs.readFileSync(fullPath);
    const view = tensorData(file, embd);
    expect(Buffer.compare(Buffer.from(view.buffer, view.byteOffset, 64), raw.subarray(embd.fileOffset, embd.fileOffset + 64))).toBe(0);
  });
});

describe("openGguf lifecycle and failures", () => {
  const stories = modelFile("stories260K.gguf");

  it("dispose is idempotent and makes the object unusable; earlier views stay readable", () => {
    const file = openGguf(stories);
    const view = tensorData(file, file.tensors[0]);
    const firstByte = view[0];
    expect(file.disposed).toBe(false);
    file.dispose();
    file.dispose();
    expect(file.disposed).toBe(true);
    expectGgufError(() => file.tensors, "DISPOSED");
    expectGgufError(() => file.bytes, "DISPOSED");
    expect(view[0]).toBe(firstByte);
  });

  it("`using` disposes at the end of the block", () => {
    let escaped: ReturnType<typeof openGguf> | undefined;
    {
      using file = openGguf(stories);
      escaped = file;
      expect(file.disposed).toBe(false);
    }
    expect(escaped.disposed).toBe(true);
  });

  it("missing file → FILE_NOT_FOUND with the path", () => {
    const missing = path.join(tmpDir, "nope.gguf");
    const error = expectGgufError(() => openGguf(missing), "FILE_NOT_FOUND");
    expect(error.path).toBe(missing);
    expect(error.message).toContain(missing);
  });

  it("0-byte file → TRUNCATED (checked before mmap)", () => {
    const empty = path.join(tmpDir, "empty.gguf");
    fs.writeFileSync(empty, "");
    expectGgufError(() => openGguf(empty), "TRUNCATED");
  });

  it("a directory → NOT_A_FILE", () => {
    expectGgufError(() => openGguf(tmpDir), "NOT_A_FILE");
  });

  it("a non-GGUF file → BAD_MAGIC, with the path prefixed", () => {
    // a llama2.c-style tokenizer file: a binary header that is not "GGUF"
    const notGguf = path.join(tmpDir, "tok512.bin");
    fs.writeFileSync(notGguf, Buffer.from([0x1b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c]));
    const error = expectGgufError(() => openGguf(notGguf), "BAD_MAGIC");
    expect(error.message.startsWith(`${notGguf}: bad magic at offset 0`)).toBe(true);
    expect(error.path).toBe(notGguf);
  });

  it("a truncated copy of a real model → TENSOR_OUT_OF_BOUNDS", () => {
    const cut = path.join(tmpDir, "cut.gguf");
    fs.writeFileSync(cut, fs.readFileSync(stories).subarray(0, 500_000));
    const error = expectGgufError(() => openGguf(cut), "TENSOR_OUT_OF_BOUNDS");
    expect(error.message).toMatch(/blk\.\d+\./);
  });
});
