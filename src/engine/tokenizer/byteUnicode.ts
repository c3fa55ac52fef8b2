/**
 * GPT-2's reversible byte ↔ unicode mapping (unicode.cpp `unicode_byte_to_utf8_map`):
 * printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order.
 * Byte-level BPE vocabularies spell every token in these characters ("Ġ" is the space byte).
 */

function isPrintableLatin1(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

function buildByteToCodepoint(): Uint16Array {
  const map = new Uint16Array(256);
  let nShifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    map[byte] = isPrintableLatin1(byte) ? byte : 256 + nShifted++;
  }
  return map;
}

/** code point that stands for each byte */
const BYTE_TO_CODEPOINT: Uint16Array = buildByteToCodepoint();

/** the one-character string that stands for each byte */
export const BYTE_TO_CHAR: readonly string[] = Array.from(BYTE_TO_CODEPOINT, (cp) => String.fromCharCode(cp));

/** inverse: code point (< 512) → byte, or -1 */
const CODEPOINT_TO_BYTE: Int16Array = (() => {
  const inverse = new Int16Array(512).fill(-1);
  BYTE_TO_CODEPOINT.forEach((cp, byte) => {
    inverse[cp] = byte;
  });
  return inverse;
})();

/** byte for a mapped code point, or -1 if the code point is not one of the 256 */
export function byteOfCodepoint(cp: number): number {
  return cp < CODEPOINT_TO_BYTE.length ? CODEPOINT_TO_BYTE[cp] : -1;
}

/** `unicode_byte_encoding_process` for one word: UTF-8 bytes of `word`, each as its mapped char. */
const utf8Encoder = new TextEncoder();

export function byteEncode(word: string): string {
  const bytes = utf8Encoder.encode(word);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]];
  return out;
}
