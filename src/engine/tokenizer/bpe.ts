/**
 * Byte-level BPE tokenization of one text fragment, behaving like llama.cpp's
 * `llm_tokenizer_bpe_session`: the fragment is split into words by the pre-tokenizer, each
 * word's UTF-8 bytes are spelled with the GPT-2 byte characters, and adjacent symbols are merged
 * by merge rank (lowest first, ties → leftmost; stale bigrams skipped). With ignore_merges
 * (llama3, tekken) a word that is itself a vocabulary token is emitted whole.
 *
 * A final symbol that is not a token falls back, like llama.cpp, to the tokens of its
 * single-byte (ASCII) characters; other characters of it are dropped.
 *
 * SentencePiece-style BPE (gemma4, byteEncode false) merges the raw UTF-8 characters of the
 * text with spaces escaped as "▁", and falls back to "<0xXX>" byte tokens.
 */

import { BinaryHeap } from "./BinaryHeap.js";
import { byteEncode } from "./byteUnicode.js";
import type { PreTokenizerSpec } from "./preTokenizers.js";
import { WordSplitter } from "./regexSplit.js";
import type { Vocab } from "./vocab.js";

interface BpeBigram {
  readonly left: number;
  readonly right: number;
  readonly text: string;
  readonly rank: number;
}

const bigramBefore = (a: BpeBigram, b: BpeBigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

const SPACE_ESCAPE = "\u2581";
const ONLY_LINE_FEEDS = /^\n+$/;

export class BpeTokenizer {
  private readonly splitter: WordSplitter;
  private readonly pre: PreTokenizerSpec;
  private readonly encoder = new TextEncoder();

  constructor(private readonly vocab: Vocab) {
    const pre = vocab.preTokenizer;
    if (pre === undefined) throw new Error("BpeTokenizer needs a BPE vocabulary");
    this.splitter = new WordSplitter(pre.regexes);
    this.pre = pre;
  }

  /** Appends the tokens of `text` to `output`. */
  tokenize(text: string, output: number[]): void {
    const escaped = this.pre.escapeWhitespaces ? text.replaceAll(" ", SPACE_ESCAPE) : text;
    for (const word of this.splitter.split(escaped)) {
      const symbols = this.pre.byteEncode ? this.mergeWord(byteEncode(word)) : this.mergeWord(word);
      for (const symbol of symbols) this.pushSymbol(symbol, output);
    }
  }

  /** Whether `word` is emitted whole, without merging (ignore_merges, gemma4's line feeds). */
  private isWholeWord(word: string): boolean {
    const wholeAllowed = this.pre.ignoreMerges || (this.pre.wholeLineFeedWords && ONLY_LINE_FEEDS.test(word));
    return wholeAllowed && this.vocab.textToId(word) >= 0;
  }

  /** The symbols left after merging one (byte-encoded) word. */
  private mergeWord(word: string): string[] {
    const vocab = this.vocab;
    if (this.isWholeWord(word)) return [word];

    const symbols: string[] = Array.from(word);
    const nSymbols = symbols.length;
    const prev = new Int32Array(nSymbols);
    const next = new Int32Array(nSymbols);
    for (let i = 0; i < nSymbols; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 === nSymbols ? -1 : i + 1;
    }

    const queue = new BinaryHeap<BpeBigram>(bigramBefore);
    const addBigram = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const rank = vocab.mergeRank(symbols[left], symbols[right]);
      if (rank < 0) return;
      queue.push({ left, right, text: symbols[left] + symbols[right], rank });
    };
    for (let i = 1; i < nSymbols; i++) addBigram(i - 1, i);

    for (let bigram = queue.pop(); bigram !== undefined; bigram = queue.pop()) {
      const { left, right } = bigram;
      if (symbols[left].length === 0 || symbols[right].length === 0) continue;
      if (symbols[left] + symbols[right] !== bigram.text) continue;
      symbols[left] = bigram.text;
      symbols[right] = "";
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      addBigram(prev[left], left);
      addBigram(left, next[left]);
    }
    return symbols.filter((symbol) => symbol.length > 0);
  }

  private pushSymbol(symbol: string, output: number[]): void {
    const id = this.vocab.textToId(symbol);
    if (id >= 0) {
      output.push(id);
      return;
    }
    if (!this.pre.byteEncode) {
      for (const byte of this.encoder.encode(symbol)) {
        const byteId = this.vocab.textToId(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
        if (byteId >= 0) output.push(byteId);
      }
      return;
    }
    for (const ch of symbol) {
      if (ch.charCodeAt(0) >= 0x80) continue;
      const byteId = this.vocab.textToId(ch);
      if (byteId >= 0) output.push(byteId);
    }
  }
}
