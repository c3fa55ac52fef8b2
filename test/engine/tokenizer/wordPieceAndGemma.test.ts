/**
 * The WordPiece tokenizer (tokenizer.ggml.model "bert") and the SentencePiece-style BPE of
 * gemma4, on hand-built vocabularies. llamaCppVocabs.test.ts checks both against llama.cpp's own
 * test vectors; these pin the details (normalizer, unknown words, byte fallback, pieces).
 */
import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../../src/engine/tokenizer/Tokenizer.js";
import { GgufTokenType } from "../../../src/engine/tokenizer/tokenAttr.js";
import type { VocabSpec } from "../../../src/engine/tokenizer/vocab.js";
import { wordPieceWords } from "../../../src/engine/tokenizer/wpm.js";
import { byteTokenText, idLookup } from "./tinyVocabs.js";

const NO_SPECIAL = { addSpecial: false } as const;
const BERT_NORMALIZER = { lowercase: true, stripAccents: true };

function bertVocab(words: readonly string[]): { spec: VocabSpec; id: (text: string) => number } {
  const tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ...words];
  const tokenTypes = tokens.map((_, i) => (i < 4 ? GgufTokenType.CONTROL : GgufTokenType.NORMAL));
  const spec: VocabSpec = { model: "bert", tokens, tokenTypes, unkId: 1, bosId: 2, sepId: 3, padId: 0 };
  return { spec, id: idLookup(tokens) };
}

describe("WordPiece words (llama.cpp's BertNormalizer preprocess)", () => {
  it("lowercases, strips accents, splits at whitespace and isolates punctuation, ASCII symbols and CJK", () => {
    expect(wordPieceWords("Héllo, WORLD!  a+b 中文x", BERT_NORMALIZER)).toEqual(["hello", ",", "world", "!", "a", "+", "b", "中", "文", "x"]);
  });

  it("drops control characters and keeps case and accents when the normalizer says so", () => {
    expect(wordPieceWords("Caf\u00e9\u0000\u200b!", { lowercase: false, stripAccents: false })).toEqual(["Café", "!"]);
  });
});

describe("WordPiece tokenizer", () => {
  const { spec, id } = bertVocab(["\u2581hello", "\u2581un", "aff", "able", "\u2581,", "\u2581!"]);
  const tokenizer = createTokenizer(spec);

  it("covers each word with the longest tokens, ▁ marking the word start", () => {
    expect(tokenizer.encode("Hello unaffable!", NO_SPECIAL)).toEqual([id("\u2581hello"), id("\u2581un"), id("aff"), id("able"), id("\u2581!")]);
  });

  it("gives one unknown token for a word it cannot cover entirely", () => {
    expect(tokenizer.encode("hello unaffablex", NO_SPECIAL)).toEqual([id("\u2581hello"), id("[UNK]")]);
  });

  it("adds [CLS] and [SEP] with add_special, whatever add_bos says", () => {
    expect(createTokenizer({ ...spec, addBos: false }).encode("hello")).toEqual([id("[CLS]"), id("\u2581hello"), id("[SEP]")]);
  });

  it("decodes ▁ as a space", () => {
    expect(tokenizer.decode([id("\u2581hello"), id("\u2581un"), id("aff")])).toBe(" hello unaff");
  });
});

describe("gemma4 (SentencePiece-style BPE)", () => {
  const bytes = Array.from({ length: 256 }, (_, b) => byteTokenText(b));
  const tokens = ["<pad>", "<eos>", "<bos>", "\n", "\n\n", ...bytes, "h", "i", "\u2581", "\u2581h", "\u2581hi", "hi"];
  const tokenTypes = tokens.map((text, i) => (i < 3 ? GgufTokenType.CONTROL : text.startsWith("<0x") ? GgufTokenType.BYTE : GgufTokenType.NORMAL));
  const spec: VocabSpec = { model: "gemma4", tokens, tokenTypes, merges: ["\u2581 h", "\u2581h i", "h i"], bosId: 2, eosId: 1, addBos: false };
  const id = idLookup(tokens);
  const tokenizer = createTokenizer(spec);

  it("merges raw UTF-8 with spaces as ▁, and keeps runs of line feeds whole", () => {
    expect(tokenizer.encode("hi hi\n\n", NO_SPECIAL)).toEqual([id("hi"), id("\u2581hi"), id("\n\n")]);
  });

  it("falls back to <0xXX> byte tokens", () => {
    expect(tokenizer.encode("é", NO_SPECIAL)).toEqual([id("<0xC3>"), id("<0xA9>")]);
  });

  it("adds BOS even when add_bos_token is false (llama.cpp's Gemma 4 workaround), and decodes ▁ as a space", () => {
    const ids = tokenizer.encode("hi hi");
    expect(ids[0]).toBe(id("<bos>"));
    expect(tokenizer.decode(ids)).toBe("hi hi");
  });

  it("uses the gemma4 pre-tokenizer whatever tokenizer.ggml.pre says", () => {
    expect(createTokenizer({ ...spec, pre: "no-such-pre-tokenizer" }).encode("hi hi", NO_SPECIAL)).toEqual([id("hi"), id("\u2581hi")]);
  });
});
