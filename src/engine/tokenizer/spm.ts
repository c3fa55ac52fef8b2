/**
 * SentencePiece-style tokenization of one text fragment, behaving like llama.cpp's
 * `llm_tokenizer_spm_session`: every UTF-8 character starts as a symbol; adjacent pairs whose
 * concatenation is a vocabulary token are merged, highest score first (ties → leftmost),
 * bigrams made stale by an earlier merge are skipped; leftover symbols that are not tokens
 * fall back to `<0xXX>` byte tokens.
 *
 * Where llama.cpp aborts (a character with no byte token, in a vocabulary without byte
 * fallback, e.g. TinyStories-656K given "é"), this emits the unknown-token id once for that
 * character and carries on.
 *
 * llama.cpp's `rev_merge` re-segmentation is not needed: a merged symbol is always a vocabulary
 * token, so only single characters ever reach the fallback.
 */

import { BinaryHeap } from "./BinaryHeap.js";
import type { Vocab } from "./vocab.js";

interface SpmBigram {
  readonly left: number;
  readonly right: number;
  readonly score: number;
  /** length of left+right when queued, in UTF-16 units (a stale bigram never matches) */
  readonly size: number;
}

const bigramBefore = (a: SpmBigram, b: SpmBigram) => a.score > b.score || (a.score === b.score && a.left < b.left);

function hex2(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}

export class SpmTokenizer {
  /** token id for each byte (`<0xXX>`, else the 1-byte ASCII text), or -1 */
  private readonly byteTokenIds: Int32Array;
  private readonly encoder = new TextEncoder();

  constructor(private readonly vocab: Vocab) {
    this.byteTokenIds = new Int32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      let id = vocab.textToId(`<0x${hex2(byte)}>`);
      if (id < 0 && byte < 0x80) id = vocab.textToId(String.fromCharCode(byte));
      this.byteTokenIds[byte] = id;
    }
  }

  /** Appends the tokens of `text` (spaces already escaped to "▁") to `output`. */
  tokenize(text: string, output: number[]): void {
    const vocab = this.vocab;
    const nUnits = text.length;
    const start = new Int32Array(nUnits);
    const len = new Int32Array(nUnits);
    const prev = new Int32Array(nUnits);
    const next = new Int32Array(nUnits);
    let nSymbols = 0;
    for (let offset = 0; offset < nUnits; ) {
      const unitLen = text.codePointAt(offset)! > 0xffff ? 2 : 1;
      start[nSymbols] = offset;
      len[nSymbols] = unitLen;
      offset += unitLen;
      prev[nSymbols] = nSymbols - 1;
      next[nSymbols] = offset === nUnits ? -1 : nSymbols + 1;
      nSymbols++;
    }
    if (nSymbols === 0) return;

    const queue = new BinaryHeap<SpmBigram>(bigramBefore);
    const tryAddBigram = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const size = len[left] + len[right];
      const id = vocab.textToId(text.substr(start[left], size));
      if (id < 0) return;
      queue.push({ left, right, score: vocab.scores[id], size });
    };

    for (let i = 1; i < nSymbols; i++) tryAddBigram(i - 1, i);

    for (let bigram = queue.pop(); bigram !== undefined; bigram = queue.pop()) {
      const { left, right } = bigram;
      if (len[left] === 0 || len[right] === 0 || len[left] + len[right] !== bigram.size) continue;
      len[left] += len[right];
      len[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      tryAddBigram(prev[left], left);
      tryAddBigram(left, next[left]);
    }

    for (let i = 0; i !== -1; i = next[i]) {
      const symbol = text.substr(start[i], len[i]);
      const id = vocab.textToId(symbol);
      if (id >= 0) output.push(id);
      else this.pushBytes(symbol, output);
    }
  }

  private pushBytes(symbol: string, output: number[]): void {
    const bytes = this.encoder.encode(symbol);
    const ids = Array.from(bytes, (byte) => this.byteTokenIds[byte]);
    if (ids.every((id) => id >= 0)) {
      output.push(...ids);
      return;
    }
    const unk = this.vocab.special.unk;
    if (unk !== undefined) output.push(unk);
  }
}
