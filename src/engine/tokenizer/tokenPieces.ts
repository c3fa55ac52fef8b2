/**
 * The bytes each token contributes to the output text, as llama.cpp's `token_to_piece`
 * (lstrip 0): control/unknown tokens give nothing unless `special`; user-defined tokens give
 * their text; SPM, WordPiece and gemma4 normal tokens their text with "▁" as space; byte tokens their byte; BPE
 * normal tokens the bytes their GPT-2 characters stand for.
 */

import { byteOfCodepoint } from "./byteUnicode.js";
import { TokenAttr } from "./tokenAttr.js";
import type { Vocab } from "./vocab.js";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const SPECIAL_ATTRS = TokenAttr.UNKNOWN | TokenAttr.CONTROL;

/** `token_to_byte`: the hex digits of "<0xXX>" (strtol semantics: invalid → 0) */
function byteOfByteToken(text: string): number {
  const value = parseInt(text.substr(3, 2), 16);
  return Number.isNaN(value) ? 0 : value & 0xff;
}

/** `llama_decode_text`: GPT-2 characters back to bytes; an unmapped character is spelled out. */
function decodeByteLevelText(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const byte = byteOfCodepoint(ch.codePointAt(0)!);
    if (byte >= 0) {
      out.push(byte);
      continue;
    }
    const hex = Array.from(encoder.encode(ch), (b: number) => b.toString(16).padStart(2, "0")).join("");
    out.push(...encoder.encode(`[UNK_BYTE_0x${hex}${text}]`));
  }
  return Uint8Array.from(out);
}

export function computeTokenPiece(vocab: Vocab, id: number, special: boolean): Uint8Array {
  const attr = vocab.attrs[id];
  if (!special && attr & SPECIAL_ATTRS) return EMPTY;
  const text = vocab.texts[id];
  if (attr & (SPECIAL_ATTRS | TokenAttr.USER_DEFINED)) return encoder.encode(text);
  if (attr & TokenAttr.NORMAL) {
    return vocab.escapeWhitespaces ? encoder.encode(text.replaceAll("\u2581", " ")) : decodeByteLevelText(text);
  }
  if (attr & TokenAttr.BYTE) return Uint8Array.of(byteOfByteToken(text));
  return EMPTY;
}

/**
 * llama.cpp's detokenizer clean-up (`clean_spaces`, BPE vocabularies): drops the space before
 * ? ! . , and before 's 'm 're 've, and around a lone apostrophe. Works on bytes, in place
 * semantics ported literally.
 */
export function cleanSpaces(input: Uint8Array): Uint8Array {
  const text = Uint8Array.from(input);
  const SP = 0x20;
  const QUOTE = 0x27;
  let total = text.length;

  const total1 = total;
  total = total ? 1 : 0;
  for (let i = 1; i < total1; i++) {
    const x = text[i];
    if (text[i - 1] === SP && (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)) total--;
    text[total++] = x;
  }

  const total2 = total;
  total = total ? 1 : 0;
  for (let i = 1; i < total2; i++) {
    const x = text[i];
    if (x === QUOTE && i + 1 < total2 && text[i - 1] === SP && text[i + 1] === SP) {
      total--;
      text[++i] = 0;
    }
    text[total++] = x;
  }

  const total3 = total;
  total = total ? 1 : 0;
  for (let i = 1; i < total3; i++) {
    const x = text[i];
    if (text[i - 1] === SP && x === QUOTE && i + 1 < total3) {
      const x1 = text[i + 1];
      if (x1 === 0x73 /* s */ || x1 === 0x6d /* m */) {
        total--;
      } else if (i + 2 < total3) {
        const x2 = text[i + 2];
        if ((x1 === 0x72 /* r */ && x2 === 0x65) /* e */ || (x1 === 0x76 /* v */ && x2 === 0x65)) total--;
      }
    }
    text[total++] = x;
  }
  return text.subarray(0, total);
}
