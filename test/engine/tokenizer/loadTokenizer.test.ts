import { describe, expect, it } from "vitest";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { parseGguf } from "../../../src/engine/gguf/reader.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { loadTokenizer } from "../../../src/engine/tokenizer/loadTokenizer.js";
import { TokenizerError } from "../../../src/engine/tokenizer/errors.js";

const SPM_TOKENS = ["<unk>", "<s>", "</s>", "▁a", "a", "<|im_end|>", "<|im_start|>"];

function spmWriter(): GgufWriter {
  return new GgufWriter()
    .setString("general.architecture", "llama")
    .setString("tokenizer.ggml.model", "llama")
    .setArray("tokenizer.ggml.tokens", GgufValueType.STRING, SPM_TOKENS)
    .setArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, SPM_TOKENS.map(() => 0))
    .setArray("tokenizer.ggml.token_type", GgufValueType.INT32, [2, 3, 3, 1, 1, 1, 3]);
}

const load = (writer: GgufWriter) => loadTokenizer(parseGguf(writer.toBytes()));

describe("loadTokenizer metadata", () => {
  it("applies llama.cpp's SPM defaults: BOS 1, EOS 2, unk 0, add BOS, space prefix", () => {
    const tokenizer = load(spmWriter());
    expect(tokenizer.type).toBe("spm");
    expect(tokenizer.vocabSize).toBe(SPM_TOKENS.length);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.unkId]).toEqual([1, 2, 0]);
    expect([tokenizer.addBos, tokenizer.addEos, tokenizer.addSpacePrefix]).toEqual([true, false, true]);
    expect(tokenizer.encode("a")).toEqual([1, 3]);
    expect(tokenizer.tokenText(3)).toBe("▁a");
  });

  it("reads ids and flags from metadata, ignoring out-of-range ids", () => {
    const writer = spmWriter()
      .setUint32("tokenizer.ggml.bos_token_id", 6)
      .setUint32("tokenizer.ggml.eos_token_id", 5)
      .setUint32("tokenizer.ggml.padding_token_id", 0xffffffff)
      .setBool("tokenizer.ggml.add_bos_token", false)
      .setBool("tokenizer.ggml.add_eos_token", true)
      .setBool("tokenizer.ggml.add_space_prefix", false);
    const tokenizer = load(writer);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([6, 5, undefined]);
    expect([tokenizer.addBos, tokenizer.addEos, tokenizer.addSpacePrefix]).toEqual([false, true, false]);
    expect(tokenizer.encode("a")).toEqual([4, 5]);
  });

  it("finds end-of-generation tokens by text, like llama.cpp", () => {
    const tokenizer = load(spmWriter());
    expect(tokenizer.eotId).toBe(5); // <|im_end|>
    expect([0, 1, 2, 3, 5, 6].map((id) => tokenizer.isEog(id))).toEqual([false, false, true, false, true, false]);
    // "<|im_end|>" was a normal token: promoted to control, so it prints nothing
    expect(tokenizer.tokenPiece(5).length).toBe(0);
  });

});

describe("loadTokenizer rejections", () => {
  it("rejects an unsupported tokenizer model, naming it and the supported ones", () => {
    const writer = spmWriter().setString("tokenizer.ggml.model", "t5");
    expect(() => load(writer)).toThrow(TokenizerError);
    expect(() => load(writer)).toThrow(
      expect.objectContaining({
        code: "UNSUPPORTED_TOKENIZER_MODEL",
        message: 'tokenizer.ggml.model "t5" is not supported (supported: "llama", "gpt2", "gemma4", "bert")',
      }),
    );
  });

  it("rejects an unsupported BPE pre-tokenizer, naming it, and a BPE vocabulary without merges", () => {
    const bpe = spmWriter().setString("tokenizer.ggml.model", "gpt2").setArray("tokenizer.ggml.merges", GgufValueType.STRING, []);
    expect(load(bpe).type).toBe("bpe");
    expect(load(bpe.setString("tokenizer.ggml.pre", "deepseek-coder")).type).toBe("bpe");
    let error: unknown;
    try {
      load(bpe.setString("tokenizer.ggml.pre", "no-such-pre-tokenizer"));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TokenizerError);
    const { code, message } = error as TokenizerError;
    expect(code).toBe("UNSUPPORTED_PRE_TOKENIZER");
    expect(message).toMatch(/^tokenizer\.ggml\.pre "no-such-pre-tokenizer" is not supported \(supported: [^\n]+\)$/);
    for (const name of ["llama-bpe", "qwen2", "qwen35", "falcon", "deepseek-llm", "deepseek-coder", "gemma4"]) {
      expect(message).toContain(` ${name},`);
    }
    const noMerges = spmWriter().setString("tokenizer.ggml.model", "gpt2");
    expect(() => load(noMerges)).toThrow(expect.objectContaining({ code: "MISSING_METADATA" }));
  });

  it("reports missing or mistyped tokenizer metadata", () => {
    expect(() => load(spmWriter().delete("tokenizer.ggml.tokens"))).toThrow(expect.objectContaining({ code: "MISSING_METADATA" }));
    expect(() => load(spmWriter().setUint32("tokenizer.ggml.tokens", 3))).toThrow(expect.objectContaining({ code: "BAD_METADATA" }));
    expect(() => load(spmWriter().setArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, [0]))).toThrow(
      expect.objectContaining({ code: "BAD_METADATA" }),
    );
  });
});
