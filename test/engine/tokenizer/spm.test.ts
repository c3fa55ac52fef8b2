import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../../src/engine/tokenizer/Tokenizer.js";
import { GgufTokenType } from "../../../src/engine/tokenizer/tokenAttr.js";
import { byteTokenText, spmVocab } from "./tinyVocabs.js";

const NO_SPECIAL = { addSpecial: false } as const;

describe("SPM merging", () => {
  const letters = [{ text: "a" }, { text: "b" }, { text: "c" }, { text: "▁" }];

  it("merges the highest-scoring pair first", () => {
    const { spec, id } = spmVocab([...letters, { text: "ab", score: -2 }, { text: "bc", score: -1 }], { addSpacePrefix: false });
    expect(createTokenizer(spec).encode("abc", NO_SPECIAL)).toEqual([id("a"), id("bc")]);
  });

  it("breaks score ties by taking the leftmost pair", () => {
    const { spec, id } = spmVocab([...letters, { text: "ab", score: -1 }, { text: "bc", score: -1 }], { addSpacePrefix: false });
    expect(createTokenizer(spec).encode("abc", NO_SPECIAL)).toEqual([id("ab"), id("c")]);
    // leftmost over the whole string: "aaaa" → "aa","aa", and "aaa" → "aa","a"
    const aa = spmVocab([...letters, { text: "aa", score: -1 }], { addSpacePrefix: false });
    expect(createTokenizer(aa.spec).encode("aaa", NO_SPECIAL)).toEqual([aa.id("aa"), aa.id("a")]);
    expect(createTokenizer(aa.spec).encode("aaaa", NO_SPECIAL)).toEqual([aa.id("aa"), aa.id("aa")]);
  });

  it("skips bigrams made stale by an earlier merge", () => {
    // after "ab" merges, the queued ("b","c") bigram is stale; "abc" must come from ("ab","c")
    const { spec, id } = spmVocab([...letters, { text: "ab", score: -1 }, { text: "bc", score: -2 }, { text: "abc", score: -3 }], {
      addSpacePrefix: false,
    });
    expect(createTokenizer(spec).encode("abc", NO_SPECIAL)).toEqual([id("abc")]);
    expect(createTokenizer(spec).encode("abcbc", NO_SPECIAL)).toEqual([id("abc"), id("bc")]);
  });

  it("only merges through tokens that exist (no jump to a longer token)", () => {
    const { spec, id } = spmVocab([...letters, { text: "abc", score: 10 }], { addSpacePrefix: false });
    expect(createTokenizer(spec).encode("abc", NO_SPECIAL)).toEqual([id("a"), id("b"), id("c")]);
  });

  it("escapes spaces as ▁ and adds a space prefix at the start", () => {
    const { spec, id } = spmVocab([...letters, { text: "▁a", score: -1 }, { text: "▁▁", score: -5 }]);
    const tokenizer = createTokenizer(spec);
    expect(tokenizer.encode("a", NO_SPECIAL)).toEqual([id("▁a")]);
    // "▁a▁▁b": ▁a first (score -1), then ▁▁
    expect(tokenizer.encode("a  b", NO_SPECIAL)).toEqual([id("▁a"), id("▁▁"), id("b")]);
    // "▁▁a": ▁a (score -1) beats ▁▁ (score -5)
    expect(tokenizer.encode(" a", NO_SPECIAL)).toEqual([id("▁"), id("▁a")]);
    const noPrefix = createTokenizer({ ...spec, addSpacePrefix: false });
    expect(noPrefix.encode("a", NO_SPECIAL)).toEqual([id("a")]);
  });
});

describe("SPM fallbacks", () => {
  it("falls back to <0xXX> byte tokens for characters not in the vocabulary", () => {
    const { spec, id } = spmVocab([{ text: "▁" }, { text: "a" }], { addSpacePrefix: false });
    const tokenizer = createTokenizer(spec);
    expect(tokenizer.encode("aé", NO_SPECIAL)).toEqual([id("a"), id(byteTokenText(0xc3)), id(byteTokenText(0xa9))]);
    expect(tokenizer.encode("😀", NO_SPECIAL)).toEqual([0xf0, 0x9f, 0x98, 0x80].map((b) => id(byteTokenText(b))));
    expect(tokenizer.encode("\t", NO_SPECIAL)).toEqual([id(byteTokenText(0x09))]);
  });

  it("emits <unk> once per character when there is no byte token (where llama.cpp aborts)", () => {
    const { spec, id } = spmVocab([{ text: "▁" }, { text: "a" }, { text: "b" }], { byteFallback: false, addSpacePrefix: false });
    const tokenizer = createTokenizer(spec);
    expect(tokenizer.encode("aéb", NO_SPECIAL)).toEqual([id("a"), 0, id("b")]);
    expect(tokenizer.encode("a\t😀b", NO_SPECIAL)).toEqual([id("a"), 0, 0, id("b")]);
    const otherUnk = createTokenizer({ ...spec, unkId: id("b") });
    expect(otherUnk.encode("é", NO_SPECIAL)).toEqual([id("b")]);
  });
});

describe("SPM special tokens and addSpecial", () => {
  const { spec, id } = spmVocab([
    { text: "▁" },
    { text: "a" },
    { text: "b" },
    { text: "▁a", score: -1 },
    { text: "<tool>", type: GgufTokenType.USER_DEFINED },
    { text: "<tool>x", type: GgufTokenType.USER_DEFINED },
    { text: "<", score: -9 },
    { text: "s" },
    { text: ">" },
    { text: "/" },
    { text: "t" },
    { text: "o" },
    { text: "l" },
    { text: "x" },
  ]);
  const tokenizer = createTokenizer(spec);

  it("adds BOS (and EOS when add_eos_token) only with addSpecial", () => {
    expect(tokenizer.encode("a")).toEqual([1, id("▁a")]);
    expect(tokenizer.encode("")).toEqual([1]);
    expect(tokenizer.encode("", NO_SPECIAL)).toEqual([]);
    const withEos = createTokenizer({ ...spec, addEos: true });
    expect(withEos.encode("a")).toEqual([1, id("▁a"), 2]);
    const noBos = createTokenizer({ ...spec, addBos: false });
    expect(noBos.encode("a")).toEqual([id("▁a")]);
  });

  it("splits control tokens out of the text only with parseSpecial, with a space prefix after them", () => {
    expect(tokenizer.encode("a<s>a", { addSpecial: false, parseSpecial: true })).toEqual([id("▁a"), 1, id("▁a")]);
    const literal = tokenizer.encode("a<s>a", NO_SPECIAL);
    expect(literal).not.toContain(1);
    expect(literal).toEqual([id("▁a"), id("<"), id("s"), id(">"), id("a")]);
    expect(tokenizer.encode("<s></s>", { addSpecial: false, parseSpecial: true })).toEqual([1, 2]);
  });

  it("always splits user-defined tokens out, longest text first", () => {
    expect(tokenizer.encode("a<tool>b", NO_SPECIAL)).toEqual([id("▁a"), id("<tool>"), id("▁"), id("b")]);
    expect(tokenizer.encode("<tool>xb<tool>", NO_SPECIAL)).toEqual([id("<tool>x"), id("▁"), id("b"), id("<tool>")]);
  });

  it("splits <unk> (an unknown-type token) only with parseSpecial", () => {
    expect(tokenizer.encode("<unk>", { addSpecial: false, parseSpecial: true })).toEqual([0]);
    expect(tokenizer.encode("<unk>", NO_SPECIAL)).not.toContain(0);
  });
});
