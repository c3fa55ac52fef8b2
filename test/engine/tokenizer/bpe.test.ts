import { describe, expect, it } from "vitest";
import { BYTE_TO_CHAR, byteEncode, byteOfCodepoint } from "../../../src/engine/tokenizer/byteUnicode.js";
import { createTokenizer } from "../../../src/engine/tokenizer/Tokenizer.js";
import { GgufTokenType } from "../../../src/engine/tokenizer/tokenAttr.js";
import type { VocabSpec } from "../../../src/engine/tokenizer/vocab.js";
import { idLookup } from "./tinyVocabs.js";

const NO_SPECIAL = { addSpecial: false } as const;

/** the 256 byte characters, then `extra` normal tokens, then <|endoftext|> (control) and <tool> (user-defined) */
function bpeVocab(extra: readonly string[], merges: readonly string[], pre = "gpt-2"): { spec: VocabSpec; id: (t: string) => number } {
  const tokens = [...BYTE_TO_CHAR, ...extra, "<|endoftext|>", "<tool>"];
  const tokenTypes = tokens.map((_, i) =>
    i === tokens.length - 2 ? GgufTokenType.CONTROL : i === tokens.length - 1 ? GgufTokenType.USER_DEFINED : GgufTokenType.NORMAL,
  );
  const spec: VocabSpec = { model: "gpt2", pre, tokens, tokenTypes, merges, bosId: tokens.length - 2, eosId: tokens.length - 2 };
  return { spec, id: idLookup(tokens) };
}

describe("GPT-2 byte ↔ unicode mapping", () => {
  it("maps printable bytes to themselves and the rest to U+0100.. in order", () => {
    expect(BYTE_TO_CHAR[0x41]).toBe("A");
    expect(BYTE_TO_CHAR[0x20]).toBe("Ġ");
    expect(BYTE_TO_CHAR[0x0a]).toBe("Ċ");
    expect(BYTE_TO_CHAR[0x00]).toBe("\u0100");
    expect(BYTE_TO_CHAR[0xad]).toBe("Ń");
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    for (let b = 0; b < 256; b++) expect(byteOfCodepoint(BYTE_TO_CHAR[b].codePointAt(0)!)).toBe(b);
    expect(byteEncode(" é")).toBe("ĠÃ©");
  });
});

describe("BPE merging", () => {
  it("applies merges by rank, lowest rank first", () => {
    const { spec, id } = bpeVocab(["ab", "bc"], ["b c", "a b"]);
    expect(createTokenizer(spec).encode("abc", NO_SPECIAL)).toEqual([id("a"), id("bc")]);
    const swapped = bpeVocab(["ab", "bc"], ["a b", "b c"]);
    expect(createTokenizer(swapped.spec).encode("abc", NO_SPECIAL)).toEqual([swapped.id("ab"), swapped.id("c")]);
  });

  it("merges equal-rank pairs leftmost first", () => {
    const { spec, id } = bpeVocab(["aa"], ["a a"]);
    expect(createTokenizer(spec).encode("aaa", NO_SPECIAL)).toEqual([id("aa"), id("a")]);
  });

  it("chains merges and never merges across pre-tokenizer words", () => {
    const { spec, id } = bpeVocab(["Ġt", "he", "Ġthe", "Ġthe"], ["Ġ t", "h e", "Ġt he"]);
    const tokenizer = createTokenizer(spec);
    expect(tokenizer.encode(" the the", NO_SPECIAL)).toEqual([id("Ġthe"), id("Ġthe")]);
    // "e t" would need a merge across the word boundary between "the" and " t"
    expect(tokenizer.encode("the t", NO_SPECIAL)).toEqual([id("t"), id("he"), id("Ġt")]);
  });

  it("emits a word that is a token whole only with ignore_merges (llama3)", () => {
    const gpt2 = bpeVocab(["Ġzebra"], []);
    expect(createTokenizer(gpt2.spec).encode(" zebra", NO_SPECIAL)).toEqual([..."Ġzebra"].map(gpt2.id));
    const llama3 = bpeVocab(["Ġzebra"], [], "llama-bpe");
    expect(createTokenizer(llama3.spec).encode(" zebra", NO_SPECIAL)).toEqual([llama3.id("Ġzebra")]);
  });

  it("drops characters with no token, like llama.cpp (only single-byte characters fall back)", () => {
    const { spec, id } = bpeVocab([], []);
    const missingQ = { ...spec, tokens: spec.tokens.map((t) => (t === "q" ? "[not q]" : t)) };
    expect(createTokenizer(missingQ).encode("aqb", NO_SPECIAL)).toEqual([id("a"), id("b")]);
  });

  it("splits special tokens out (user-defined always, control with parseSpecial) and adds BOS per pre-tokenizer", () => {
    const { spec, id } = bpeVocab([], []);
    const tokenizer = createTokenizer(spec);
    const eot = id("<|endoftext|>");
    expect(tokenizer.encode("a<|endoftext|>", { addSpecial: false, parseSpecial: true })).toEqual([id("a"), eot]);
    expect(tokenizer.encode("a<|endoftext|>", NO_SPECIAL)).not.toContain(eot);
    expect(tokenizer.encode("<tool>a", NO_SPECIAL)).toEqual([id("<tool>"), id("a")]);
    expect(tokenizer.addBos).toBe(false);
    expect(tokenizer.encode("a")).toEqual([id("a")]);
    const llama3 = createTokenizer({ ...spec, pre: "llama-bpe" });
    expect(llama3.addBos).toBe(true);
    expect(llama3.encode("a")).toEqual([eot, id("a")]);
  });
});

describe("BPE decoding", () => {
  const { spec, id } = bpeVocab(["Ġw", "Ġworld", "Ã©"], ["Ġ w", "Ã ©"]);

  it("turns GPT-2 characters back into bytes", () => {
    const tokenizer = createTokenizer(spec);
    expect(new TextDecoder().decode(tokenizer.tokenPiece(id("Ġworld")))).toBe(" world");
    expect([...tokenizer.tokenPiece(id("Ã©"))]).toEqual([0xc3, 0xa9]);
    expect(tokenizer.decode(tokenizer.encode("hi é world", NO_SPECIAL))).toBe("hi é world");
  });

  it("cleans spaces before punctuation and contractions when the pre-tokenizer says so", () => {
    const ids = (text: string) => [...byteEncode(text)].map(id);
    const gpt2 = createTokenizer(spec); // clean_spaces
    expect(gpt2.decode(ids("a , b . c ' d 's 're 't"))).toBe("a, b. c'd's're 't");
    expect(gpt2.decode(ids("I 'm x 've y 'd z 'll ? !"))).toBe("I'm x've y 'd z 'll?!");
    expect(gpt2.decode(ids("a , b"), { cleanSpaces: false })).toBe("a , b");
    const qwen2 = createTokenizer({ ...spec, pre: "qwen2" }); // no clean_spaces
    expect(qwen2.decode(ids("a , b"))).toBe("a , b");
  });

  it("renders control tokens only when asked", () => {
    const tokenizer = createTokenizer(spec);
    const eot = id("<|endoftext|>");
    expect(tokenizer.decode([id("a"), eot])).toBe("a");
    expect(tokenizer.decode([id("a"), eot], { special: true })).toBe("a<|endoftext|>");
    expect(tokenizer.decode([id("<tool>")])).toBe("<tool>");
    expect(tokenizer.isEog(eot)).toBe(true);
    expect(tokenizer.isEog(id("a"))).toBe(false);
  });
});
