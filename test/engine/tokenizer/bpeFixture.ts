/**
 * A synthetic byte-level BPE ("gpt2") vocabulary trained here on a small built-in English text,
 * written into a tiny random llama model so that llama.cpp can load it as a reference.
 *
 * Vocabulary: the 256 GPT-2 byte characters, one token per learned merge, a few whole-word
 * tokens that no merge produces (to exercise ignore_merges), and special tokens: control
 * "<|endoftext|>" (BOS/EOS) and "<|im_start|>", user-defined "<tool>".
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { BYTE_TO_CHAR, byteEncode } from "../../../src/engine/tokenizer/byteUnicode.js";
import { REGEX_GPT2, REGEX_LLAMA3, REGEX_QWEN2, WordSplitter } from "../../../src/engine/tokenizer/regexSplit.js";
import type { VocabSpec } from "../../../src/engine/tokenizer/vocab.js";
import { buildSyntheticModel } from "../../../src/engine/gguf/syntheticModel.js";

export const TRAINING_TEXT = `Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
One day, she saw a big, red ball. "Can I play with it?" she asked her mom. Her mom said, "Yes, you can!"
Lily's friend Tom didn't want to share. He said, "It's mine, and I'll keep it." They're friends, so they've
learned to share. We'd like to go home at 12:30 or 1234567 o'clock; the cost was $3.50 + 10% tax.
The café served crème brûlée to a naïve señor — it was très délicieux! Ünïcödé strings are fun.
   Indented lines, tabs\tand	more	tabs, and   repeated    spaces   here.
Emoji time: 😀 😀 👍 👍🏽 🦙 🦙 ok!!! What??? Wow... <=> ^^ ~~ || ## @@ (parens) [brackets] {braces}
camelCase HelloWorld XMLHttpRequest ABCdef iPhone McDonald's rock'n'roll
中文字符 日本語 한국어 Привет мир αβγ

In 2024 and 2025 we counted 100, 1000 and 12345 stars.

The End.

`;

/** repeated so that merges for digit groups, blank lines and runs of spaces get learned */
const FORMATTING_TEXT = "Call 1234567 at 12:30 or 2024.\n\n  Indented   text  \r\n\r\n".repeat(4);

export const SPECIAL_TOKENS = { endOfText: "<|endoftext|>", imStart: "<|im_start|>", tool: "<tool>" } as const;
/** whole-word tokens added without merges: only ignore_merges pre-tokenizers emit them whole */
export const UNMERGED_WORD_TOKENS = ["Ġzebra", "zebra", "Ġgiraffe"] as const;

export interface BpeTraining {
  readonly merges: string[];
  readonly mergedTokens: string[];
}

/**
 * Classic BPE training: repeatedly merge the most frequent adjacent pair (ties → smallest pair).
 * Words come from several pre-tokenizers at once, so that merges exist for the words each of
 * them makes ("ĊĊ", "123", "30", …) and their differences show in the token ids.
 */
export function trainBpe(text: string, nMerges: number): BpeTraining {
  const wordCounts = new Map<string, number>();
  for (const regexes of [[REGEX_GPT2], [REGEX_LLAMA3], [REGEX_QWEN2]]) {
    for (const word of new WordSplitter(regexes).split(text)) {
      const encoded = byteEncode(word);
      wordCounts.set(encoded, (wordCounts.get(encoded) ?? 0) + 1);
    }
  }
  let words = [...wordCounts].map(([word, count]) => ({ symbols: Array.from(word), count }));
  const merges: string[] = [];
  const mergedTokens: string[] = [];
  for (let m = 0; m < nMerges; m++) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + " " + symbols[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split(" ");
    merges.push(best);
    mergedTokens.push(left + right);
    words = words.map(({ symbols, count }) => {
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else merged.push(symbols[i]);
      }
      return { symbols: merged, count };
    });
  }
  return { merges, mergedTokens };
}

export interface BpeVocabulary {
  readonly tokens: string[];
  readonly tokenTypes: number[];
  readonly merges: string[];
  readonly endOfTextId: number;
}

export function buildBpeVocabulary(nMerges = 400): BpeVocabulary {
  const { merges, mergedTokens } = trainBpe(TRAINING_TEXT + FORMATTING_TEXT, nMerges);
  const tokens: string[] = [...BYTE_TO_CHAR];
  const seen = new Set(tokens);
  for (const token of [...mergedTokens, ...UNMERGED_WORD_TOKENS]) {
    if (!seen.has(token)) {
      seen.add(token);
      tokens.push(token);
    }
  }
  const tokenTypes = tokens.map(() => 1);
  const endOfTextId = tokens.length;
  tokens.push(SPECIAL_TOKENS.endOfText, SPECIAL_TOKENS.imStart, SPECIAL_TOKENS.tool);
  tokenTypes.push(3, 3, 4);
  return { tokens, tokenTypes, merges, endOfTextId };
}

/** The metadata our tokenizer would read from the fixture file. */
export function bpeVocabSpec(vocab: BpeVocabulary, pre: string | undefined): VocabSpec {
  return {
    model: "gpt2",
    pre,
    tokens: vocab.tokens,
    tokenTypes: vocab.tokenTypes,
    merges: vocab.merges,
    bosId: vocab.endOfTextId,
    eosId: vocab.endOfTextId,
  };
}

export interface BpeFixtureFile {
  readonly path: string;
  dispose(): void;
}

/**
 * Writes a tiny random llama model with the BPE vocabulary and `tokenizer.ggml.pre = pre`
 * (omitted when undefined) to the OS temp directory.
 */
export async function writeBpeFixture(vocab: BpeVocabulary, pre: string | undefined): Promise<BpeFixtureFile> {
  const writer = buildSyntheticModel({
    nEmbd: 32,
    nLayer: 1,
    nHead: 4,
    nFf: 64,
    nVocab: vocab.tokens.length,
    weightType: GgmlType.F32,
    seed: 7,
  });
  writer
    .delete("tokenizer.ggml.scores")
    .delete("tokenizer.ggml.unknown_token_id")
    .delete("tokenizer.ggml.add_bos_token")
    .setString("tokenizer.ggml.model", "gpt2")
    .setArray("tokenizer.ggml.tokens", GgufValueType.STRING, vocab.tokens)
    .setArray("tokenizer.ggml.token_type", GgufValueType.INT32, vocab.tokenTypes)
    .setArray("tokenizer.ggml.merges", GgufValueType.STRING, vocab.merges)
    .setUint32("tokenizer.ggml.bos_token_id", vocab.endOfTextId)
    .setUint32("tokenizer.ggml.eos_token_id", vocab.endOfTextId);
  if (pre !== undefined) writer.setString("tokenizer.ggml.pre", pre);
  const filePath = path.join(os.tmpdir(), `layerstream-bpe-${pre ?? "none"}-${randomBytes(4).toString("hex")}.gguf`);
  await writer.writeFile(filePath);
  return { path: filePath, dispose: () => rmSync(filePath, { force: true }) };
}
