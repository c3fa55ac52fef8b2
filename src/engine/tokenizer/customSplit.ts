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

/** Splits every fragment with `tokenEnd`, which returns where the word starting at `pos` ends. */
function scanner(tokenEnd: (c: FragmentCursor, pos: number) => number): SplitFunction {
  return (cps, lengths) =>
    forEachFragment(cps, lengths, (c) => {
      for (let pos = c.ini; pos < c.end; ) {
        pos = tokenEnd(c, pos);
        c.addToken(pos);
      }
    });
}

/** [^\s\p{L}\p{N}]: in the fragment, and neither whitespace, letter nor number */
function isSymbol(flags: number): boolean {
  return !(flags & WLN) && flags !== 0;
}

/** The first position at or after `pos` whose flags lack `flag`. */
function endOfRun(c: FragmentCursor, pos: number, flag: number): number {
  while (c.flags(pos) & flag) pos++;
  return pos;
}

function endOfSymbols(c: FragmentCursor, pos: number): number {
  while (isSymbol(c.flags(pos))) pos++;
  return pos;
}

/** \s+(?!\S), else \s+, else one code point: the end of the word at `pos`, which starts `nWhitespace` whitespace code points. */
function whitespaceEnd(c: FragmentCursor, pos: number, nWhitespace: number): number {
  // \s+(?!\S)
  if (nWhitespace > 1 && c.cpt(pos + nWhitespace) !== OUT_OF_RANGE) return pos + nWhitespace - 1;
  // \s+
  if (nWhitespace > 0) return pos + nWhitespace;
  return pos + 1;
}

/** 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
function gpt2TokenEnd(c: FragmentCursor, pos: number): number {
  const nContraction = contractionLength(c, pos, false);
  if (nContraction > 0) return pos + nContraction;
  const start = c.cpt(pos) === SPACE ? pos + 1 : pos;
  const flags = c.flags(start);
  if (flags & LETTER) return endOfRun(c, start, LETTER);
  if (flags & NUMBER) return endOfRun(c, start, NUMBER);
  if (isSymbol(flags)) return endOfSymbols(c, start);
  return whitespaceEnd(c, pos, endOfRun(c, pos, WHITESPACE) - pos);
}

export const splitGpt2: SplitFunction = scanner(gpt2TokenEnd);

/**
 * llama3:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * qwen2:   the same with \p{N} instead of \p{N}{1,3}
 */
function llama3TokenEnd(c: FragmentCursor, pos: number, maxDigits: number): number {
  const nContraction = contractionLength(c, pos, true);
  if (nContraction > 0) return pos + nContraction;
  const cpt = c.cpt(pos);
  const flags = c.flags(pos);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!(cpt === CR || cpt === LF || flags & NUMBER) && (flags & LETTER || c.flags(pos + 1) & LETTER)) {
    return endOfRun(c, pos + 1, LETTER);
  }
  if (flags & NUMBER) return emitDigitGroups(c, pos, maxDigits);
  // <space>?[^\s\p{L}\p{N}]+[\r\n]*   (the guard tests the flags of `cpt` itself, as llama.cpp does)
  const start = cpt === SPACE ? pos + 1 : pos;
  if (!(c.flags(start) & WLN) && flags !== 0) return endOfLineBreaks(c, endOfSymbols(c, start));
  return llama3WhitespaceEnd(c, pos);
}

/** \p{N}{1,maxDigits}: emits every full group of the run of digits at `pos`; returns the end of the last one. */
function emitDigitGroups(c: FragmentCursor, pos: number, maxDigits: number): number {
  let ini = pos;
  while (c.flags(pos) & NUMBER) {
    if (++pos - ini >= maxDigits) {
      c.addToken(pos);
      ini = pos;
    }
  }
  return pos;
}

/** [\r\n]*: the first position at or after `pos` that is not CR or LF. */
function endOfLineBreaks(c: FragmentCursor, pos: number): number {
  let cpt = c.cpt(pos);
  while (cpt === CR || cpt === LF) cpt = c.cpt(++pos);
  return pos;
}

/** \s*[\r\n]+ (up to the last line break of the whitespace run), else as `whitespaceEnd`. */
function llama3WhitespaceEnd(c: FragmentCursor, pos: number): number {
  let nWhitespace = 0;
  let lastEndCrOrLf = 0;
  while (c.flags(pos + nWhitespace) & WHITESPACE) {
    const cpt = c.cpt(pos + nWhitespace);
    if (cpt === CR || cpt === LF) lastEndCrOrLf = pos + nWhitespace + 1;
    nWhitespace++;
  }
  if (lastEndCrOrLf > 0) return lastEndCrOrLf;
  return whitespaceEnd(c, pos, nWhitespace);
}

export const splitLlama3: SplitFunction = scanner((c, pos) => llama3TokenEnd(c, pos, 3));
export const splitQwen2: SplitFunction = scanner((c, pos) => llama3TokenEnd(c, pos, 1));

const LETTER_OR_MARK = LETTER | CpFlag.ACCENT_MARK;
const WLMN = WLN | CpFlag.ACCENT_MARK;

/**
 * qwen35: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * — qwen2 with accent marks counted as letters.
 */
function qwen35TokenEnd(c: FragmentCursor, pos: number): number {
  const nContraction = contractionLength(c, pos, true);
  if (nContraction > 0) return pos + nContraction;
  const cpt = c.cpt(pos);
  const flags = c.flags(pos);
  // [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+
  if (!(cpt === CR || cpt === LF || flags & NUMBER) && (flags & LETTER_OR_MARK || c.flags(pos + 1) & LETTER_OR_MARK)) {
    return endOfRun(c, pos + 1, LETTER_OR_MARK);
  }
  if (flags & NUMBER) return pos + 1;
  // <space>?[^\s\p{L}\p{M}\p{N}]+[\r\n]*
  let end = cpt === SPACE ? pos + 1 : pos;
  const isOther = (at: number) => !(c.flags(at) & WLMN) && c.flags(at) !== 0;
  if (!(c.flags(end) & WLMN) && flags !== 0) {
    while (isOther(end)) end++;
    return endOfLineBreaks(c, end);
  }
  return llama3WhitespaceEnd(c, pos);
}

export const splitQwen35: SplitFunction = scanner(qwen35TokenEnd);

/** [^\n]+|[\n]+ : runs of line feeds and runs of anything else, alternately. */
export const splitNewlineRuns: SplitFunction = scanner((c, pos) => {
  const isLineFeed = c.cpt(pos) === LF;
  let end = pos + 1;
  while (end < c.end && (c.cpt(end) === LF) === isLineFeed) end++;
  return end;
});
