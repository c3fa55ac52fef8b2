/** Reading a model's chat template and special-token texts. */
import { optionalString } from "../gguf/metadata.js";
import type { GgufFile } from "../gguf/types.js";
import type { Tokenizer } from "../tokenizer/Tokenizer.js";

/** The GGUF metadata key of a model's chat template. */
export const CHAT_TEMPLATE_KEY = "tokenizer.chat_template";

/**
 * The model's chat template: `tokenizer.chat_template`, or with `name` the named variant
 * `tokenizer.chat_template.<name>` (e.g. "tool_use"). Undefined when the file has none.
 * Throws GgufFormatError WRONG_TYPE when the key holds something other than a string.
 */
export function chatTemplateOf(file: GgufFile, name?: string): string | undefined {
  return optionalString(file, name === undefined ? CHAT_TEMPLATE_KEY : `${CHAT_TEMPLATE_KEY}.${name}`);
}

/**
 * The text of a special token as templates see it (`bos_token`, `eos_token`): its piece with
 * special tokens rendered, as llama.cpp's `common_token_to_piece(vocab, id, true)`; "" when the
 * vocabulary has no such token.
 */
export function specialTokenText(tokenizer: Tokenizer, id: number | undefined): string {
  if (id === undefined) return "";
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(tokenizer.tokenPiece(id, { special: true }));
}
