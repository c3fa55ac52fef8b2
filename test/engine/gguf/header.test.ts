import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openGgufHeader, readTensorSync } from "../../../src/engine/gguf/header.js";
import { openGguf, tensorData } from "../../../src/engine/gguf/reader.js";
import { modelFile } from "../../helpers/paths.js";

const STORIES = modelFile("stories260K.gguf");
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-header-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("openGgufHeader", () => {
  it.each([64, 1000, 4 << 20])("reads the same header as the mapped parser, starting with %i bytes", (firstReadBytes) => {
    using header = openGgufHeader(STORIES, { firstReadBytes });
    using mapped = openGguf(STORIES);
    expect(header.tensors).toEqual(mapped.tensors);
    expect([...header.metadata.keys()]).toEqual([...mapped.metadata.keys()]);
    expect(header.fileBytes).toBe(mapped.fileBytes);
    expect(header.bytes.length).toBe(mapped.dataOffset);
  });

  it("reads tensor bytes identical to the mapped view", () => {
    using header = openGgufHeader(STORIES);
    using mapped = openGguf(STORIES);
    for (const info of header.tensors) expect(Buffer.from(readTensorSync(header, info)).equals(Buffer.from(tensorData(mapped, info)))).toBe(true);
  });

  it("reports tensors past the end of a truncated file, a missing file, and a non-GGUF file", () => {
    const truncated = path.join(dir, "truncated.gguf");
    fs.writeFileSync(truncated, fs.readFileSync(STORIES).subarray(0, 600_000));
    expect(() => openGgufHeader(truncated)).toThrow(/ends past the end of the 600000-byte file/);
    expect(() => openGgufHeader(path.join(dir, "none.gguf"))).toThrow(/not found/);
    const text = path.join(dir, "text.gguf");
    fs.writeFileSync(text, "not a model at all, just text\n");
    expect(() => openGgufHeader(text)).toThrow(/bad magic/);
  });

  it("closes its descriptor once, however often it is disposed", () => {
    const header = openGgufHeader(STORIES);
    header.dispose();
    header.dispose();
    expect(() => fs.fstatSync(header.fd)).toThrow();
  });
});
