/**
 * Splitting with a regex that names no Unicode category, as llama.cpp does it with std::wregex:
 * on the code points themselves, with non-ASCII whitespace replaced by U+000B (std::wregex's `\s`
 * only knows ASCII whitespace). Used by e.g. deepseek-llm's letter, punctuation and CJK ranges.
 */

import type { SplitFunction } from "./customSplit.js";
import { CpFlag, codepointFlags } from "./unicodeFlags.js";

const VERTICAL_TAB = 0x0b;
/** std::wregex `\s` in the "C" locale: \t \n \v \f \r and space */
const ASCII_WHITESPACE_CLASS = String.raw`\t-\r `;

/** The regex with `\s` / `\S` restricted to ASCII whitespace, as std::wregex reads them (JS's `\s` also matches U+FEFF). */
export function asciiWhitespaceRegex(regex: string): string {
  let out = "";
  let insideClass = false;
  for (let i = 0; i < regex.length; i++) {
    const ch = regex[i];
    if (ch === "\\" && i + 1 < regex.length) {
      const escaped = regex[++i];
      if (escaped === "s") out += insideClass ? ASCII_WHITESPACE_CLASS : `[${ASCII_WHITESPACE_CLASS}]`;
      else if (escaped === "S" && !insideClass) out += `[^${ASCII_WHITESPACE_CLASS}]`;
      else out += ch + escaped;
      continue;
    }
    if (ch === "[") insideClass = true;
    else if (ch === "]") insideClass = false;
    out += ch;
  }
  return out;
}

/** The text of cps[start, end) with non-ASCII whitespace as U+000B. */
function wideFragment(cps: Uint32Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) {
    const cp = cps[i];
    text += String.fromCodePoint(cp > 0x7f && codepointFlags(cp) & CpFlag.WHITESPACE ? VERTICAL_TAB : cp);
  }
  return text;
}

/** Code point index of every UTF-16 offset of `text` (length + 1 entries). */
function codepointIndexOfUnits(text: string): Int32Array {
  const index = new Int32Array(text.length + 1);
  let cp = 0;
  for (let unit = 0; unit < text.length; unit++) {
    index[unit] = cp;
    const isHighSurrogate = text.codePointAt(unit)! > 0xffff;
    if (isHighSurrogate) index[++unit] = cp;
    cp++;
  }
  index[text.length] = cp;
  return index;
}

/** A split step running `regex` (flags "gu") over every fragment: gaps and matches both become words. */
export function wideRegexSplit(regex: RegExp): SplitFunction {
  return (cps, lengths) => {
    const out: number[] = [];
    let start = 0;
    for (const length of lengths) {
      const fragment = wideFragment(cps, start, start + length);
      const cpAt = codepointIndexOfUnits(fragment);
      let consumed = 0;
      regex.lastIndex = 0;
      for (let m = regex.exec(fragment); m !== null; m = regex.exec(fragment)) {
        if (m[0].length === 0) {
          regex.lastIndex += 1;
          continue;
        }
        const matchStart = cpAt[m.index];
        const matchEnd = cpAt[m.index + m[0].length];
        if (matchStart > consumed) out.push(matchStart - consumed);
        out.push(matchEnd - matchStart);
        consumed = matchEnd;
      }
      if (consumed < length) out.push(length - consumed);
      start += length;
    }
    return out;
  };
}
