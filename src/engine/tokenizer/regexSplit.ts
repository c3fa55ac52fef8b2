/**
 * Pre-tokenizer word splitting, as llama.cpp's `unicode_regex_split` does it: the regexes of a
 * pre-tokenizer are applied one after the other, each one refining the split left by the
 * previous one (matches and the gaps between them both become words).
 *
 * The common regexes (gpt2, llama3, qwen2, qwen35, gemma4's line split) run through the
 * hand-written scanners, like in llama.cpp. Any other regex runs the way llama.cpp runs it through
 * std::regex: when it uses a Unicode category, on a "collapsed" copy of the text where every
 * non-ASCII code point is replaced by one byte standing for its category (letters → 0xD2,
 * numbers → 0xD1, …, whitespace → 0x0B), with `\p{X}` in the regex rewritten to match that byte;
 * otherwise (std::wregex) on the code points themselves, non-ASCII whitespace replaced by 0x0B and
 * `\s` meaning ASCII whitespace only. JS and std::regex are both ECMAScript regex engines.
 */

import { splitGpt2, splitLlama3, splitNewlineRuns, splitQwen2, splitQwen35, type SplitFunction } from "./customSplit.js";
import { CpFlag, codepointFlags, codepointsOf } from "./unicodeFlags.js";
import { asciiWhitespaceRegex, wideRegexSplit } from "./wideRegexSplit.js";

export const REGEX_GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
export const REGEX_LLAMA3 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
export const REGEX_QWEN2 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

export const REGEX_QWEN35 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
export const REGEX_NEWLINE_RUNS = String.raw`[^\n]+|[\n]+`;

const CUSTOM_SPLITS: ReadonlyMap<string, SplitFunction> = new Map([
  [REGEX_GPT2, splitGpt2],
  [REGEX_LLAMA3, splitLlama3],
  [REGEX_QWEN2, splitQwen2],
  [REGEX_QWEN35, splitQwen35],
  [REGEX_NEWLINE_RUNS, splitNewlineRuns],
]);

/** `\p{X}` → [collapsed byte, ASCII members] (unicode.cpp k_ucat_cpt / k_ucat_map) */
const COLLAPSED_CATEGORIES: ReadonlyMap<string, { readonly byte: string; readonly ascii: string }> = (() => {
  const number = { byte: "\xD1", ascii: "\x30-\x39" };
  const letter = { byte: "\xD2", ascii: "\x41-\x5A\x61-\x7A" };
  const punctuation = { byte: "\xD3", ascii: "\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\\x5B-\\\x5D\x5F\\\x7B\\\x7D" };
  const accentMark = { byte: "\xD4", ascii: "" };
  const symbol = { byte: "\xD5", ascii: "\\\x24\\\x2B\x3C-\x3E\x5E\x60\\\x7C\\\x7E" };
  return new Map([
    ["\\p{N}", number],
    ["\\p{L}", letter],
    ["\\p{P}", punctuation],
    ["\\p{M}", accentMark],
    ["\\p{S}", symbol],
    ["\\p{Lu}", letter],
    ["\\p{Ll}", letter],
    ["\\p{Lt}", letter],
    ["\\p{Lm}", letter],
    ["\\p{Lo}", letter],
  ]);
})();

const COLLAPSED_BYTE_BY_CATEGORY: ReadonlyMap<number, number> = new Map([
  [CpFlag.NUMBER, 0xd1],
  [CpFlag.LETTER, 0xd2],
  [CpFlag.PUNCTUATION, 0xd3],
  [CpFlag.ACCENT_MARK, 0xd4],
  [CpFlag.SYMBOL, 0xd5],
]);

/** One char per code point: ASCII kept, others replaced by their category byte. */
function collapseText(cps: Uint32Array): string {
  const units = new Uint16Array(cps.length);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i];
    if (cp < 128) {
      units[i] = cp;
      continue;
    }
    const flags = codepointFlags(cp);
    if (flags & CpFlag.WHITESPACE) units[i] = 0x0b;
    else units[i] = COLLAPSED_BYTE_BY_CATEGORY.get(flags & CpFlag.MASK_CATEGORIES) ?? 0xd0;
  }
  let text = "";
  const CHUNK = 8192;
  for (let i = 0; i < units.length; i += CHUNK) {
    text += String.fromCharCode(...units.subarray(i, i + CHUNK));
  }
  return text;
}

/** Rewrite `\p{X}` classes to their collapsed form, as unicode.cpp does before std::regex. */
export function collapseRegex(regex: string): string {
  let out = "";
  let inside = false;
  for (let i = 0; i < regex.length; i++) {
    const ch = regex[i];
    if (ch === "[" && (i === 0 || regex[i - 1] !== "\\")) {
      out += "[";
      inside = true;
      continue;
    }
    if (inside && ch === "]" && regex[i - 1] !== "\\") {
      out += "]";
      inside = false;
      continue;
    }
    if (ch === "\\" && i + 3 < regex.length && regex[i + 1] === "p" && regex[i + 2] === "{") {
      const close = regex.indexOf("}", i + 3);
      if (close !== -1 && close <= i + 10) {
        const category = COLLAPSED_CATEGORIES.get(regex.slice(i, close + 1));
        if (category !== undefined) {
          out += (inside ? "" : "[") + category.byte + category.ascii + (inside ? "" : "]");
          i = close;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

/** std::regex_iterator over each fragment: gaps and matches both become words. */
function splitWithRegex(collapsed: string, regex: RegExp, lengths: readonly number[]): number[] {
  const out: number[] = [];
  let start = 0;
  for (const length of lengths) {
    const fragment = collapsed.slice(start, start + length);
    let consumed = 0;
    regex.lastIndex = 0;
    for (let m = regex.exec(fragment); m !== null; m = regex.exec(fragment)) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      if (m.index > consumed) out.push(m.index - consumed);
      out.push(m[0].length);
      consumed = m.index + m[0].length;
    }
    if (consumed < length) out.push(length - consumed);
    start += length;
  }
  return out;
}

/** Whether llama.cpp runs `regex` on the collapsed text (it names a Unicode category it knows). */
function usesCategories(regex: string): boolean {
  for (const category of COLLAPSED_CATEGORIES.keys()) if (regex.includes(category)) return true;
  return false;
}

/** How one regex of a pre-tokenizer is run. */
function compileStep(regex: string): SplitFunction | RegExp {
  const custom = CUSTOM_SPLITS.get(regex);
  if (custom !== undefined) return custom;
  if (usesCategories(regex)) return new RegExp(collapseRegex(regex), "g");
  return wideRegexSplit(new RegExp(asciiWhitespaceRegex(regex), "gu"));
}

/** A compiled sequence of split regexes (one pre-tokenizer). */
export class WordSplitter {
  private readonly steps: readonly (SplitFunction | RegExp)[];

  constructor(readonly regexes: readonly string[]) {
    this.steps = regexes.map(compileStep);
  }

  /** Split `text` into words (substrings, in order, concatenating back to `text`). */
  split(text: string): string[] {
    if (text.length === 0) return [];
    const cps = codepointsOf(text);
    let lengths: number[] = [cps.length];
    let collapsed: string | undefined;
    for (const step of this.steps) {
      if (step instanceof RegExp) {
        collapsed ??= collapseText(cps);
        lengths = splitWithRegex(collapsed, step, lengths);
      } else {
        lengths = step(cps, lengths);
      }
    }
    const words: string[] = [];
    let unitOffset = 0;
    let cpIndex = 0;
    for (const length of lengths) {
      let nUnits = 0;
      for (let i = 0; i < length; i++) nUnits += cps[cpIndex++] > 0xffff ? 2 : 1;
      words.push(text.slice(unitOffset, unitOffset + nUnits));
      unitOffset += nUnits;
    }
    return words;
  }
}
