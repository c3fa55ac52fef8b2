/**
 * WordPiece tokenization of one text fragment (BERT vocabularies, tokenizer.ggml.model "bert"),
 * behaving like llama.cpp's `llm_tokenizer_wpm_session`: the text is normalized (NFD reduced to
 * the base code point and accent marks dropped, lowercased, as the BertNormalizer options say),
 * split into words at whitespace, with every punctuation mark, ASCII symbol and CJK ideograph a
 * word of its own; each word, prefixed with "▁", is then covered greedily by the longest
 * vocabulary tokens. A word that cannot be covered entirely becomes the unknown token.
 */

import { CpFlag, codepointFlags } from "./unicodeFlags.js";
import type { Vocab } from "./vocab.js";

const WORD_PREFIX = "\u2581";

/** CJK ideograph blocks BERT isolates (the ranges of llama.cpp's `is_chinese_char`, itself from HF tokenizers). */
const CHINESE_RANGES: readonly (readonly [number, number])[] = [
  [0x04e00, 0x09fff],
  [0x03400, 0x04dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf],
  [0x0f900, 0x0faff],
  [0x2f800, 0x2fa1f],
];

function isChineseChar(cp: number): boolean {
  return CHINESE_RANGES.some(([first, last]) => cp >= first && cp <= last);
}

/** `unicode_cpts_normalize_nfd`: the first code point of the canonical decomposition. */
function nfdBase(cp: number): number {
  return String.fromCodePoint(cp).normalize("NFD").codePointAt(0)!;
}

/** `unicode_tolower`: the simple lowercase mapping (the first code point of the full one). */
function lowercase(cp: number): number {
  return String.fromCodePoint(cp).toLowerCase().codePointAt(0)!;
}

/** Characters that are a word of their own: punctuation, ASCII symbols, CJK ideographs. */
function isIsolated(cp: number, flags: number): boolean {
  return (flags & CpFlag.PUNCTUATION) !== 0 || (cp < 0x7f && (flags & CpFlag.SYMBOL) !== 0) || isChineseChar(cp);
}

/** llama.cpp's WordPiece `preprocess`: the normalized words of `text`. */
export function wordPieceWords(text: string, normalizer: Vocab["normalizer"]): string[] {
  const words: string[] = [];
  let word = "";
  const finishWord = () => {
    if (word !== "") words.push(word);
    word = "";
  };
  for (const ch of text) {
    const original = ch.codePointAt(0)!;
    const cp = normalizer.stripAccents ? nfdBase(original) : original;
    const flags = codepointFlags(cp);
    if (flags & CpFlag.WHITESPACE) {
      finishWord();
      continue;
    }
    if (cp === 0 || cp === 0xfffd || flags & CpFlag.CONTROL) continue;
    if (normalizer.stripAccents && flags & CpFlag.ACCENT_MARK) continue;
    const normalized = String.fromCodePoint(normalizer.lowercase ? lowercase(cp) : cp);
    if (isIsolated(cp, flags)) {
      finishWord();
      words.push(normalized);
    } else {
      word += normalized;
    }
  }
  finishWord();
  return words;
}

export class WpmTokenizer {
  /** length of the longest token text, in UTF-16 units */
  private readonly maxTokenLength: number;

  constructor(private readonly vocab: Vocab) {
    this.maxTokenLength = vocab.texts.reduce((max, text) => Math.max(max, text.length), 0);
  }

  /** Appends the tokens of `text` to `output`. */
  tokenize(text: string, output: number[]): void {
    for (const word of wordPieceWords(text, this.vocab.normalizer)) {
      const start = output.length;
      if (!this.coverWord(WORD_PREFIX + word, output)) output.length = start;
      if (output.length === start && this.vocab.special.unk !== undefined) output.push(this.vocab.special.unk);
    }
  }

  /** Appends the longest-first tokens covering `word`; false when some part of it is no token. */
  private coverWord(word: string, output: number[]): boolean {
    for (let pos = 0; pos < word.length; ) {
      let end = Math.min(word.length, pos + this.maxTokenLength);
      let id = -1;
      for (; end > pos; end--) {
        id = this.vocab.textToId(word.slice(pos, end));
        if (id >= 0) break;
      }
      if (id < 0) return false;
      output.push(id);
      pos = end;
    }
    return true;
  }
}
