/**
 * Unicode code point classes as llama.cpp's unicode.cpp sees them (`unicode_cpt_flags`):
 * one general category (\p{N}, \p{L}, \p{Z}, \p{M}, \p{P}, \p{S}, \p{C}, or undefined)
 * plus a "whitespace" flag that comes from llama.cpp's own list, not from a category
 * (it includes U+0085 and U+00A0, and excludes U+FEFF and U+001C..U+001F).
 *
 * Categories come from the JS engine's Unicode tables (`\p{…}` regexes), cached per code point.
 */

export const CpFlag = {
  UNDEFINED: 0x0001,
  NUMBER: 0x0002,
  LETTER: 0x0004,
  SEPARATOR: 0x0008,
  ACCENT_MARK: 0x0010,
  PUNCTUATION: 0x0020,
  SYMBOL: 0x0040,
  CONTROL: 0x0080,
  MASK_CATEGORIES: 0x00ff,
  WHITESPACE: 0x0100,
} as const;

/** unicode-data.cpp `unicode_set_whitespace` */
const WHITESPACE_CODEPOINTS: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];
const WHITESPACE = new Set(WHITESPACE_CODEPOINTS);

const CATEGORY_TESTS: readonly (readonly [RegExp, number])[] = [
  [/^\p{L}$/u, CpFlag.LETTER],
  [/^\p{N}$/u, CpFlag.NUMBER],
  [/^\p{P}$/u, CpFlag.PUNCTUATION],
  [/^\p{S}$/u, CpFlag.SYMBOL],
  [/^\p{M}$/u, CpFlag.ACCENT_MARK],
  [/^\p{Z}$/u, CpFlag.SEPARATOR],
  [/^\p{Cn}$/u, CpFlag.UNDEFINED],
  [/^\p{C}$/u, CpFlag.CONTROL],
];

const MAX_CODEPOINT = 0x10ffff;
/** flags + 1 per BMP code point (0 = not computed yet) */
const bmpCache = new Uint16Array(0x10000);
const astralCache = new Map<number, number>();

function computeFlags(cp: number): number {
  if (cp > MAX_CODEPOINT) return CpFlag.UNDEFINED;
  const ch = String.fromCodePoint(cp);
  let flags: number = CpFlag.UNDEFINED;
  for (const [re, flag] of CATEGORY_TESTS) {
    if (re.test(ch)) {
      flags = flag;
      break;
    }
  }
  if (WHITESPACE.has(cp)) flags |= CpFlag.WHITESPACE;
  return flags;
}

/** `unicode_cpt_flags_from_cpt`: category bit | WHITESPACE. Never 0 for a real code point. */
export function codepointFlags(cp: number): number {
  if (cp < 0x10000) {
    const cached = bmpCache[cp];
    if (cached !== 0) return cached - 1;
    const flags = computeFlags(cp);
    bmpCache[cp] = flags + 1;
    return flags;
  }
  let flags = astralCache.get(cp);
  if (flags === undefined) {
    flags = computeFlags(cp);
    astralCache.set(cp, flags);
  }
  return flags;
}

/** The code points of a JS string (lone surrogates are kept as their own code unit values). */
export function codepointsOf(text: string): Uint32Array {
  const cps = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    cps[n++] = cp;
    if (cp > 0xffff) i++;
  }
  return cps.subarray(0, n);
}
