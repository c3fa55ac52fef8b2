/**
 * Hand-written scanners for the three most common pre-tokenizer regexes, ported in behaviour
 * from llama.cpp unicode.cpp (`unicode_regex_split_custom_gpt2/_llama3/_qwen2`). llama.cpp
 * uses these instead of a regex engine, so matching them (and not the regex) is what makes
 * us token-identical.
 *
 * Every scanner takes the code points of the whole text and the current split (lengths in
 * code points, summing to cps.length) and returns the refined split.
 */

import { CpFlag, codepointFlags } from "./unicodeFlags.js";

const OUT_OF_RANGE = 0xffffffff;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const APOSTROPHE = 0x27;

export type SplitFunction = (cps: Uint32Array, lengths: readonly number[]) => number[];

/** One fragment [ini, end) of the text, with llama.cpp's bounded accessors. */
class FragmentCursor {
  private prevEnd: number;
  constructor(
    private readonly cps: Uint32Array,
    readonly ini: number,
    readonly end: number,
    private readonly out: number[],
  ) {
    this.prevEnd = ini;
  }
  cpt(pos: number): number {
    return pos >= this.ini && pos < this.end ? this.cps[pos] : OUT_OF_RANGE;
  }
  /** 0 outside the fragment (so `flags !== 0` is llama.cpp's `as_uint()`) */
  flags(pos: number): number {
    return pos >= this.ini && pos < this.end ? codepointFlags(this.cps[pos]) : 0;
  }
  /** emit a word ending at `end`; returns its length */
  addToken(end: number): number {
    const len = end - this.prevEnd;
    if (len > 0) this.out.push(len);
    this.prevEnd = end;
    return len;
  }
}

function lowerAscii(cp: number): number {
  return cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp;
}

/**
 * 's|'t|'re|'ve|'m|'ll|'d (case-insensitive when `ignoreCase`); returns the match length or 0.
 */
function contractionLength(c: FragmentCursor, pos: number, ignoreCase: boolean): number {
  if (c.cpt(pos) !== APOSTROPHE || pos + 1 >= c.end) return 0;
  const lower = ignoreCase ? lowerAscii : (cp: number) => cp;
  const next = lower(c.cpt(pos + 1));
  if (next === 0x73 /* s */ || next === 0x74 /* t */ || next === 0x6d /* m */ || next === 0x64 /* d */) return 2;
  if (pos + 2 < c.end) {
    const nextNext = lower(c.cpt(pos + 2));
    if (
      (next === 0x72 /* r */ && nextNext === 0x65) /* e */ ||
      (next === 0x76 /* v */ && nextNext === 0x65) ||
      (next === 0x6c /* l */ && nextNext === 0x6c) /* l */
    ) {
      return 3;
    }
  }
  return 0;
}

const LETTER = CpFlag.LETTER;
const NUMBER = CpFlag.NUMBER;
const WHITESPACE = CpFlag.WHITESPACE;
const WLN = WHITESPACE | LETTER | NUMBER;

function forEachFragment(
  cps: Uint32Array,
  lengths: readonly number[],
  scan: (c: FragmentCursor) => void,
): number[] {
  const out: number[] = [];
  let start = 0;
  for (const length of lengths) {
    scan(new FragmentCursor(cps, start, start + length, out));
    start += length;
  }
  return out;
}

/** 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
export const splitGpt2: SplitFunction = (cps, lengths) =>
  forEachFragment(cps, lengths, (c) => {
    for (let pos = c.ini; pos < c.end; ) {
      const cpt = c.cpt(pos);
      const flags = c.flags(pos);

      const nContraction = contractionLength(c, pos, false);
      if (nContraction > 0) {
        pos += c.addToken(pos + nContraction);
        continue;
      }

      let flags2 = cpt === SPACE ? c.flags(pos + 1) : flags;
      if (flags2 & LETTER) {
        pos += cpt === SPACE ? 1 : 0;
        while (flags2 & LETTER) flags2 = c.flags(++pos);
        c.addToken(pos);
        continue;
      }
      if (flags2 & NUMBER) {
        pos += cpt === SPACE ? 1 : 0;
        while (flags2 & NUMBER) flags2 = c.flags(++pos);
        c.addToken(pos);
        continue;
      }
      if (!(flags2 & WLN) && flags2 !== 0) {
        pos += cpt === SPACE ? 1 : 0;
        while (!(flags2 & WLN) && flags2 !== 0) flags2 = c.flags(++pos);
        c.addToken(pos);
        continue;
      }

      let nWhitespace = 0;
      while (c.flags(pos + nWhitespace) & WHITESPACE) nWhitespace++;
      // \s+(?!\S)
      if (nWhitespace > 1 && c.cpt(pos + nWhitespace) !== OUT_OF_RANGE) {
        pos += nWhitespace - 1;
        c.addToken(pos);
        continue;
      }
      // \s+
      if (nWhitespace > 0) {
        pos += nWhitespace;
        c.addToken(pos);
        continue;
      }
      c.addToken(++pos);
    }
  });

/**
 * llama3:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * qwen2:   the same with \p{N} instead of \p{N}{1,3}
 */
function makeLlama3LikeSplit(maxDigits: number): SplitFunction {
  return (cps, lengths) =>
    forEachFragment(cps, lengths, (c) => {
      for (let pos = c.ini; pos < c.end; ) {
        const cpt = c.cpt(pos);
        const flags = c.flags(pos);

        const nContraction = contractionLength(c, pos, true);
        if (nContraction > 0) {
          pos += c.addToken(pos + nContraction);
          continue;
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!(cpt === CR || cpt === LF || flags & NUMBER)) {
          if (flags & LETTER || c.flags(pos + 1) & LETTER) {
            pos++;
            while (c.flags(pos) & LETTER) pos++;
            c.addToken(pos);
            continue;
          }
        }

        // \p{N}{1,maxDigits}
        if (flags & NUMBER) {
          let ini = pos;
          while (c.flags(pos) & NUMBER) {
            if (++pos - ini >= maxDigits) {
              c.addToken(pos);
              ini = pos;
            }
          }
          c.addToken(pos);
          continue;
        }

        // <space>?[^\s\p{L}\p{N}]+[\r\n]*   (the guard tests the flags of `cpt` itself, as llama.cpp does)
        let flags2 = cpt === SPACE ? c.flags(pos + 1) : flags;
        if (!(flags2 & WLN) && flags !== 0) {
          pos += cpt === SPACE ? 1 : 0;
          while (!(flags2 & WLN) && flags2 !== 0) flags2 = c.flags(++pos);
          let cpt2 = c.cpt(pos);
          while (cpt2 === CR || cpt2 === LF) cpt2 = c.cpt(++pos);
          c.addToken(pos);
          continue;
        }

        let nWhitespace = 0;
        let lastEndCrOrLf = 0;
        while (c.flags(pos + nWhitespace) & WHITESPACE) {
          const cpt2 = c.cpt(pos + nWhitespace);
          if (cpt2 === CR || cpt2 === LF) lastEndCrOrLf = pos + nWhitespace + 1;
          nWhitespace++;
        }
        // \s*[\r\n]+
        if (lastEndCrOrLf > 0) {
          pos = lastEndCrOrLf;
          c.addToken(pos);
          continue;
        }
        // \s+(?!\S)
        if (nWhitespace > 1 && c.cpt(pos + nWhitespace) !== OUT_OF_RANGE) {
          pos += nWhitespace - 1;
          c.addToken(pos);
          continue;
        }
        // \s+
        if (nWhitespace > 0) {
          pos += nWhitespace;
          c.addToken(pos);
          continue;
        }
        c.addToken(++pos);
      }
    });
}

export const splitLlama3: SplitFunction = makeLlama3LikeSplit(3);
export const splitQwen2: SplitFunction = makeLlama3LikeSplit(1);
