import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/store/errors.js";
import { pickGgufFile } from "../../src/store/hfRepo.js";
import { hfResolveUrl, parseSource } from "../../src/store/source.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return undefined;
}

describe("parseSource", () => {
  it("reads URLs, hf: files and hf: repos with or without a quant tag", () => {
    expect(parseSource("https://example.com/models/My%20Model.Q8_0.gguf?download=true")).toMatchObject({ kind: "url", fileName: "My Model.Q8_0.gguf" });
    expect(parseSource("hf:ggml-org/models/tinyllamas/stories260K.gguf")).toMatchObject({ kind: "hf-file", repoId: "ggml-org/models", filePath: "tinyllamas/stories260K.gguf", fileName: "stories260K.gguf" });
    expect(parseSource("hf://ggml-org/models/x.gguf")).toMatchObject({ kind: "hf-file", repoId: "ggml-org/models", filePath: "x.gguf" });
    expect(parseSource("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M")).toMatchObject({ kind: "hf-repo", repoId: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", quant: "Q4_K_M" });
    expect(parseSource("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF")).toMatchObject({ kind: "hf-repo", quant: undefined });
  });

  it("rejects what is not a source, a non-.gguf file, a split part and relative segments, each with its code", () => {
    expect(codeOf(() => parseSource("ftp://example.com/x.gguf"))).toBe("BAD_SOURCE");
    expect(codeOf(() => parseSource("https://example.com/readme.md"))).toBe("BAD_SOURCE");
    expect(codeOf(() => parseSource("hf:onlyowner"))).toBe("BAD_SOURCE");
    expect(codeOf(() => parseSource("hf:o/r/../x.gguf"))).toBe("BAD_SOURCE");
    expect(codeOf(() => parseSource("hf:o/r/x.gguf:Q8_0"))).toBe("BAD_SOURCE");
    expect(codeOf(() => parseSource("hf:o/r/big-Q4_K_M-00001-of-00003.gguf"))).toBe("SPLIT_NOT_SUPPORTED");
  });

  it("builds resolve/main URLs with each path segment encoded", () => {
    expect(hfResolveUrl("https://huggingface.co", "o/r", "sub dir/a+b.gguf")).toBe("https://huggingface.co/o/r/resolve/main/sub%20dir/a%2Bb.gguf");
  });
});

describe("pickGgufFile (llama.cpp -hf repo:quant)", () => {
  const repo = [
    ".gitattributes",
    "README.md",
    "mmproj-model-Q8_0.gguf",
    "model-IQ4_XS.gguf",
    "model-Q4_K_M.gguf",
    "model-Q4_K_S.gguf",
    "model-Q8_0.gguf",
    "model-f16.gguf",
  ];

  it("picks the file holding the tag, case-insensitively, skipping mmproj", () => {
    expect(pickGgufFile(repo, "Q8_0", "o/r")).toBe("model-Q8_0.gguf");
    expect(pickGgufFile(repo, "q8_0", "o/r")).toBe("model-Q8_0.gguf");
    expect(pickGgufFile(repo, "F16", "o/r")).toBe("model-f16.gguf");
  });

  it("prefers a whole-word match (Q4_K_S, not Q4_K_M, for Q4_K_S; Q4_K falls back to the first containing it)", () => {
    expect(pickGgufFile(repo, "Q4_K_S", "o/r")).toBe("model-Q4_K_S.gguf");
    expect(pickGgufFile(repo, "Q4_K", "o/r")).toBe("model-Q4_K_M.gguf");
  });

  it("defaults to Q4_K_M, else the first .gguf", () => {
    expect(pickGgufFile(repo, undefined, "o/r")).toBe("model-Q4_K_M.gguf");
    expect(pickGgufFile(["b-Q8_0.gguf", "mmproj-f16.gguf", "c-f16.gguf"], undefined, "o/r")).toBe("b-Q8_0.gguf");
  });

  it("prefers one file over split parts, and says split files are not supported when there is nothing else", () => {
    const split = ["big-Q4_K_M-00001-of-00002.gguf", "big-Q4_K_M-00002-of-00002.gguf"];
    expect(pickGgufFile([...split, "Q4_K_M/big-Q4_K_M.gguf"], "Q4_K_M", "o/r")).toBe("Q4_K_M/big-Q4_K_M.gguf");
    expect(() => pickGgufFile([...split, "big-Q8_0.gguf"], "Q4_K_M", "o/r")).toThrow(/split GGUF files are not supported yet.*big-Q8_0\.gguf/);
  });

  it("names the files it has when nothing matches", () => {
    expect(() => pickGgufFile(repo, "Q2_K", "o/r")).toThrow(/no \.gguf file matching "Q2_K".*model-Q8_0\.gguf/);
    expect(codeOf(() => pickGgufFile(["README.md", "mmproj-x.gguf"], undefined, "o/r"))).toBe("NO_MATCHING_FILE");
  });
});
