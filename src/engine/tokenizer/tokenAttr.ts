/**
 * Token attributes, as llama.cpp keeps them (`llama_token_attr` bit flags), and the mapping
 * from the GGUF `tokenizer.ggml.token_type` values (`llama_token_type`).
 */

export const TokenAttr = {
  UNDEFINED: 0,
  UNKNOWN: 1 << 0,
  UNUSED: 1 << 1,
  NORMAL: 1 << 2,
  /** special tokens such as BOS/EOS: printed only when asked, split out only with parseSpecial */
  CONTROL: 1 << 3,
  /** added tokens: always split out of the text before tokenizing, printed verbatim */
  USER_DEFINED: 1 << 4,
  /** `<0xXX>` byte-fallback tokens */
  BYTE: 1 << 5,
} as const;

/** GGUF `tokenizer.ggml.token_type` values. */
export const GgufTokenType = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

const ATTR_BY_GGUF_TOKEN_TYPE: Readonly<Record<number, number>> = {
  [GgufTokenType.UNDEFINED]: TokenAttr.UNDEFINED,
  [GgufTokenType.NORMAL]: TokenAttr.NORMAL,
  [GgufTokenType.UNKNOWN]: TokenAttr.UNKNOWN,
  [GgufTokenType.CONTROL]: TokenAttr.CONTROL,
  [GgufTokenType.USER_DEFINED]: TokenAttr.USER_DEFINED,
  [GgufTokenType.UNUSED]: TokenAttr.UNUSED,
  [GgufTokenType.BYTE]: TokenAttr.BYTE,
};

/** Attribute bits for a GGUF token type; unknown type values count as UNDEFINED (like llama.cpp). */
export function attrFromGgufTokenType(tokenType: number): number {
  return ATTR_BY_GGUF_TOKEN_TYPE[tokenType] ?? TokenAttr.UNDEFINED;
}
