/**
 * Byte-level BPE against llama.cpp: no real BPE GGUF is available here, so bpeFixture.ts
 * trains a small vocabulary, writes it into a tiny random llama model (one file per
 * pre-tokenizer, in the OS temp directory) and llama.cpp loads it as the reference.
 * As in llamaCppSpm.test.ts, node-llama-cpp's tokenize() adds no BOS.
 */
import { readFileSync } from "node:fs";
import type { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGguf } from "../../src/engine/gguf/reader.js";
import { loadTokenizer } from "../../src/engine/tokenizer/loadTokenizer.js";
import { createTokenizer, type Tokenizer } from "../../src/engine/tokenizer/Tokenizer.js";
import { getReferenceLlama } from "../helpers/llamaCpp.js";
import { buildBpeVocabulary, bpeVocabSpec, writeBpeFixture, type BpeFixtureFile } from "../engine/tokenizer/bpeFixture.js";

const TEXTS = [
  "Once upon a time, there was a little girl named Lily.",
  "Hello world",
  "don't I'm we'll they've she'd you're DON'T I'M We'Ll",
  "rock'n'roll 'quoted' ''",
  "1234567 and 12 and 3.14159 and 1,000,000",
  "$3.50+10% <=> ^^^ ~~~ ||| !!! ??? ... ---",
  "a   b    c",
  "   leading",
  "trailing   ",
  " ",
  "a\n\nb\r\nc \n d\n",
  "a\r\n\r\n  b",
  "In 2024 and 2025 we counted 100, 1000 and 12345 stars.\r\n\r\nThe End.\n\n",
  "12:30 o'clock",
  "x  \r\n\r\ny",
  "\tindent\t\tx",
  "😀 👍🏽 🦙 ok",
  "café naïve Ünïcödé crème brûlée",
  "中文字符 日本語 한국어 Привет мир αβγ",
  "HelloWorld camelCase ABCdef XMLHttpRequest iPhone McDonald's",
  "zebra Zebra a zebra giraffe",
  "x\u00a0\u00a0y x\u3000y a\u0085b x\ufeffy",
  "ǅungla ǈ Ⅻ ²³ ½ ﬁ",
  " ' hello ' world 's 're x . y , z ! w ?",
  "I 'm sure you 've seen they 'd go we 'll 't ' x",
  "<|endoftext|>hello<|im_start|>user\nhi<|endoftext|>",
  "<tool>call</tool> <tool>",
];

/** undefined = no tokenizer.ggml.pre key (llama.cpp falls back to "default") */
const PRE_TOKENIZERS: readonly (string | undefined)[] = [undefined, "default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken", "dbrx"];

const vocab = buildBpeVocabulary();

for (const pre of PRE_TOKENIZERS) {
  describe(`BPE tokenizer vs llama.cpp: pre=${pre ?? "(absent)"}`, () => {
    let fixture: BpeFixtureFile;
    let model: LlamaModel;
    let ours: Tokenizer;

    beforeAll(async () => {
      fixture = await writeBpeFixture(vocab, pre);
      const llama = await getReferenceLlama();
      model = await llama.loadModel({ modelPath: fixture.path });
      ours = loadTokenizer(parseGguf(new Uint8Array(readFileSync(fixture.path))));
    });
    afterAll(async () => {
      await model?.dispose();
      fixture?.dispose();
    });

    it("reads the file into the vocabulary it was built from", () => {
      const direct = createTokenizer(bpeVocabSpec(vocab, pre));
      expect(ours.type).toBe("bpe");
      expect(ours.vocabSize).toBe(vocab.tokens.length);
      for (const text of TEXTS) expect(ours.encode(text)).toEqual(direct.encode(text));
    });

    it("has llama.cpp's special ids and add-BOS flag", () => {
      expect(ours.bosId).toBe(model.tokens.bos);
      expect(ours.eosId).toBe(model.tokens.eos);
      expect(ours.addBos).toBe(model.tokens.shouldPrependBosToken);
    });

    it("matches token ids, without and with special-token parsing", () => {
      for (const text of TEXTS) {
        for (const parseSpecial of [false, true]) {
          const expected = Array.from(model.tokenize(text, parseSpecial) as unknown as number[]);
          expect(ours.encode(text, { addSpecial: false, parseSpecial }), `${JSON.stringify(text)} special=${parseSpecial}`).toEqual(
            expected,
          );
        }
      }
    });

    it("decodes like llama.cpp's detokenize (clean-up of spaces included) and round-trips", () => {
      for (const text of TEXTS) {
        const ids = ours.encode(text, { addSpecial: false, parseSpecial: true });
        expect(ours.decode(ids), JSON.stringify(text)).toBe(model.detokenize(ids as never));
        expect(ours.decode(ids, { special: true }), JSON.stringify(text)).toBe(model.detokenize(ids as never, true));
        expect(ours.decode(ids, { special: true, cleanSpaces: false }), JSON.stringify(text)).toBe(text);
      }
    });
  });
}

describe("the BPE fixture exercises the pre-tokenizers", () => {
  it("gives different token ids per pre-tokenizer where their regexes differ", () => {
    const encode = (pre: string, text: string) => createTokenizer(bpeVocabSpec(vocab, pre)).encode(text, { addSpecial: false });
    const differ = (text: string, a: string, b: string) => expect(encode(a, text), `${a} vs ${b}: ${JSON.stringify(text)}`).not.toEqual(encode(b, text));
    differ("1234567", "gpt-2", "llama-bpe");
    differ("12:30", "llama-bpe", "qwen2");
    differ("2024", "smollm", "gpt-2");
    differ("they've", "default", "gpt-2");
    differ("a\n\nb", "gpt-2", "llama-bpe");
    differ("HelloWorld", "tekken", "gpt-2");
    expect(encode("llama-bpe", " zebra")).toEqual([vocab.tokens.indexOf("Ġzebra")]);
    expect(encode("gpt-2", " zebra")).not.toEqual([vocab.tokens.indexOf("Ġzebra")]);
  });
});
