/**
 * Token ids against llama.cpp (node-llama-cpp) on the real SPM vocabularies.
 *
 * node-llama-cpp's `model.tokenize(text, special)` calls llama.cpp's `common_tokenize` with
 * add_special = false (no BOS) and parse_special = special, so it is compared with our
 * `encode(text, { addSpecial: false, parseSpecial })`. BOS is added by node-llama-cpp later,
 * at evaluation, when `model.tokens.shouldPrependBosToken` (llama.cpp's add_bos) is set; we
 * check that flag against our `addBos`, and that our addSpecial output is [BOS, ...that].
 */
import { readFileSync } from "node:fs";
import type { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGguf } from "../../src/engine/gguf/reader.js";
import { loadTokenizer } from "../../src/engine/tokenizer/loadTokenizer.js";
import type { Tokenizer } from "../../src/engine/tokenizer/Tokenizer.js";
import { getReferenceLlama } from "../helpers/llamaCpp.js";
import { modelFile } from "../helpers/paths.js";

/** strings every vocabulary can tokenize in llama.cpp */
const COMMON_TEXTS = [
  "Once upon a time",
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
  "The dog said \"Woof!\" and ran away.",
  "a  b   c    d",
  "   leading spaces",
  "trailing spaces   ",
  " ",
  "  ",
  "1234567 and 42 and 3.14",
  "don't can't I'm we'll they've Lily's",
  "line one\nline two\n\nline four\n",
  "\n",
  "<|start_story|>Once upon a time",
  "Once<|end_story|><|start_story|>The end",
  "The <unk> and <s> tokens",
  "ALL CAPS and MiXeD cAsE",
];

/** stories260K has all 256 byte tokens, so anything goes */
const BYTE_FALLBACK_TEXTS = [
  "café naïve résumé — “quotes” ‘single’ …",
  "emoji 😀👍🏽 and 🦙 ok",
  "tab\there\t\tdouble",
  "中文字符 日本語 Привет",
  "x\u00a0y\u3000z",
  "<tool>(parens)[brackets]{braces}/slash\\back",
  "The <unk> and <s> and </s> tokens</s>",
];

interface ModelCase {
  readonly file: string;
  readonly texts: readonly string[];
}

const CASES: readonly ModelCase[] = [
  { file: "stories260K.gguf", texts: [...COMMON_TEXTS, ...BYTE_FALLBACK_TEXTS] },
  // 656K has no byte tokens: llama.cpp aborts on characters outside its vocabulary (tested below)
  { file: "TinyStories-656K-Q8_0.gguf", texts: COMMON_TEXTS },
];

const loadOurs = (file: string): Tokenizer =>
  loadTokenizer(parseGguf(new Uint8Array(readFileSync(modelFile(file)))));

for (const { file, texts } of CASES) {
  describe(`SPM tokenizer vs llama.cpp: ${file}`, () => {
    let model: LlamaModel;
    let ours: Tokenizer;

    beforeAll(async () => {
      const llama = await getReferenceLlama();
      model = await llama.loadModel({ modelPath: modelFile(file) });
      ours = loadOurs(file);
    });
    afterAll(async () => {
      await model?.dispose();
    });

    it("has llama.cpp's special ids and add-BOS flag", () => {
      expect(ours.type).toBe("spm");
      expect(ours.bosId).toBe(model.tokens.bos);
      expect(ours.eosId).toBe(model.tokens.eos);
      expect(ours.addBos).toBe(model.tokens.shouldPrependBosToken);
      expect(ours.vocabSize).toBe(model.fileInfo.metadata.tokenizer.ggml.tokens.length);
    });

    it("matches token ids, without and with special-token parsing", () => {
      for (const text of texts) {
        for (const parseSpecial of [false, true]) {
          const expected = Array.from(model.tokenize(text, parseSpecial) as unknown as number[]);
          expect(ours.encode(text, { addSpecial: false, parseSpecial }), `${JSON.stringify(text)} special=${parseSpecial}`).toEqual(
            expected,
          );
        }
        expect(ours.encode(text)).toEqual([ours.bosId, ...ours.encode(text, { addSpecial: false })]);
      }
    });

    it("decodes like llama.cpp's detokenize and round-trips", () => {
      for (const text of texts) {
        const ids = ours.encode(text, { addSpecial: false });
        expect(ours.decode(ids), JSON.stringify(text)).toBe(model.detokenize(ids as never));
        expect(ours.decode(ids), JSON.stringify(text)).toBe(text);
        const withBos = ours.encode(text);
        expect(ours.decode(withBos)).toBe(model.detokenize(withBos as never));
        expect(ours.decode(withBos, { special: true })).toBe(model.detokenize(withBos as never, true));
      }
    });

    it("gives each token the piece llama.cpp gives it", () => {
      // a leading normal token absorbs detokenize's leading-space strip, so the piece shows whole
      const prefix = ours.encode("a", { addSpecial: false }).at(-1)!;
      for (let id = 0; id < ours.vocabSize; id++) {
        for (const special of [false, true]) {
          expect(ours.decode([prefix, id], { special }), `token ${id} special=${special}`).toBe(
            model.detokenize([prefix, id] as never, special),
          );
        }
      }
    });
  });
}

describe("TinyStories-656K: characters outside the vocabulary (llama.cpp aborts)", () => {
  const ours = loadOurs("TinyStories-656K-Q8_0.gguf");
  const unk = ours.unkId!;

  it("emits <unk> once per such character and carries on", () => {
    expect(unk).toBe(0);
    for (const ch of ["\t", "é", "😀", "/", "中"]) {
      const ids = ours.encode(`ab${ch}cd`, { addSpecial: false });
      expect(ids.filter((id) => id === unk), JSON.stringify(ch)).toHaveLength(1);
      expect(ours.decode(ids)).toBe("abcd"); // <unk> is a control token here: it prints nothing
    }
    expect(ours.encode("é", { addSpecial: false })).toEqual([ours.encode(" ", { addSpecial: false })[0], unk]);
  });

  it("all derived 656K files carry the same tokenizer", () => {
    const texts = [...COMMON_TEXTS, "tab\there é"];
    const reference = texts.map((t) => ours.encode(t, { parseSpecial: true }));
    for (const variant of ["F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]) {
      const derived = loadOurs(`TinyStories-656K-${variant}.gguf`);
      expect(texts.map((t) => derived.encode(t, { parseSpecial: true })), variant).toEqual(reference);
    }
  });
});
