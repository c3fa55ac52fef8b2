import { describe, expect, it } from "vitest";
import { StreamingDecoder } from "../../../src/engine/tokenizer/StreamingDecoder.js";
import { createTokenizer } from "../../../src/engine/tokenizer/Tokenizer.js";
import { GgufTokenType } from "../../../src/engine/tokenizer/tokenAttr.js";
import { byteTokenText, spmVocab } from "./tinyVocabs.js";

const { spec, id } = spmVocab([
  { text: "▁" },
  { text: "▁Hi", score: -1 },
  { text: "!" },
  { text: "é" },
  { text: "<tool>", type: GgufTokenType.USER_DEFINED },
  { text: "<unused0>", type: GgufTokenType.UNUSED },
]);
const tokenizer = createTokenizer(spec);
const byteId = (b: number) => id(byteTokenText(b));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("tokenPiece (llama.cpp token_to_piece, special=false)", () => {
  it("gives ▁ as a space, byte tokens as their byte, user-defined tokens verbatim", () => {
    expect(text(tokenizer.tokenPiece(id("▁Hi")))).toBe(" Hi");
    expect([...tokenizer.tokenPiece(byteId(0x0a))]).toEqual([0x0a]);
    expect([...tokenizer.tokenPiece(byteId(0xf0))]).toEqual([0xf0]);
    expect(text(tokenizer.tokenPiece(id("<tool>")))).toBe("<tool>");
  });

  it("gives nothing for control, unknown and unused tokens unless special", () => {
    for (const t of ["<s>", "</s>", "<unk>"]) {
      expect(tokenizer.tokenPiece(id(t)).length, t).toBe(0);
      expect(text(tokenizer.tokenPiece(id(t), { special: true })), t).toBe(t);
    }
    expect(tokenizer.tokenPiece(id("<unused0>")).length).toBe(0);
  });

  it("rejects ids outside the vocabulary with a typed error", () => {
    expect(() => tokenizer.tokenPiece(tokenizer.vocabSize)).toThrow(expect.objectContaining({ code: "TOKEN_OUT_OF_RANGE" }));
    expect(() => tokenizer.tokenText(-1)).toThrow(expect.objectContaining({ code: "TOKEN_OUT_OF_RANGE" }));
  });
});

describe("decode (llama.cpp detokenize)", () => {
  it("strips the leading space of the first token, which a leading BOS absorbs", () => {
    expect(tokenizer.decode([id("▁Hi"), id("!")])).toBe("Hi!");
    expect(tokenizer.decode([1, id("▁Hi")])).toBe(" Hi");
    expect(tokenizer.decode([id("▁Hi")], { removeLeadingSpace: false })).toBe(" Hi");
  });

  it("round-trips encode", () => {
    for (const s of ["Hi!", "  Hi  é\n😀", "é!"]) expect(tokenizer.decode(tokenizer.encode(s, { addSpecial: false }))).toBe(s);
  });

  it("turns invalid UTF-8 into U+FFFD", () => {
    expect(tokenizer.decode([byteId(0xff), id("!")])).toBe("\uFFFD!");
    expect(tokenizer.decode([byteId(0xe2), byteId(0x82)])).toBe("\uFFFD");
  });
});

describe("StreamingDecoder", () => {
  it("prints a 4-byte emoji split over 4 byte tokens once, when complete", () => {
    const decoder = new StreamingDecoder(tokenizer);
    const emoji = tokenizer.encode("😀", { addSpecial: false }).slice(1); // drop the "▁" prefix token
    expect(emoji).toEqual([0xf0, 0x9f, 0x98, 0x80].map(byteId));
    expect(emoji.map((t) => decoder.push(t))).toEqual(["", "", "", "😀"]);
    expect(decoder.flush()).toBe("");
  });

  it("does not strip the first space by default (a continuation), and can", () => {
    expect(new StreamingDecoder(tokenizer).push(id("▁Hi"))).toBe(" Hi");
    const fromStart = new StreamingDecoder(tokenizer, { removeLeadingSpace: true });
    expect([id("▁Hi"), id("▁Hi")].map((t) => fromStart.push(t)).join("")).toBe("Hi Hi");
  });

  it("concatenates to the same text as decoding the whole sequence", () => {
    const ids = tokenizer.encode("Hi é 😀 Hi!\n", { addSpecial: false });
    const decoder = new StreamingDecoder(tokenizer);
    const streamed = ids.map((t) => decoder.push(t)).join("") + decoder.flush();
    expect(streamed).toBe(tokenizer.decode(ids, { removeLeadingSpace: false }));
  });

  it("prints U+FFFD for bytes that can never complete, as soon as that is known, and for a cut-off character at flush", () => {
    const decoder = new StreamingDecoder(tokenizer);
    expect(decoder.push(byteId(0xff))).toBe("\uFFFD");
    expect(decoder.push(byteId(0xe2))).toBe("");
    expect(decoder.push(id("!"))).toBe("\uFFFD!");
    expect(decoder.push(byteId(0xf0))).toBe("");
    expect(decoder.push(byteId(0x9f))).toBe("");
    expect(decoder.flush()).toBe("\uFFFD");
    expect(decoder.push(id("é"))).toBe("é");
  });

  it("keeps a U+FEFF at the start (no BOM stripping)", () => {
    const decoder = new StreamingDecoder(tokenizer);
    const ids = [0xef, 0xbb, 0xbf].map(byteId);
    expect(ids.map((t) => decoder.push(t)).join("")).toBe("\uFEFF");
  });
});
