import { LayerstreamError } from "../errors.js";

/**
 * The one error type of the tokenizer. Every rejection has its own `code`; messages are one
 * line naming the offending value (metadata key, tokenizer name, token id).
 */

export type TokenizerErrorCode =
  /** tokenizer.ggml.model is not "llama" (SPM) or "gpt2" (byte-level BPE) */
  | "UNSUPPORTED_TOKENIZER_MODEL"
  /** tokenizer.ggml.pre names a pre-tokenizer this runtime does not implement */
  | "UNSUPPORTED_PRE_TOKENIZER"
  /** a required metadata key (tokens, model, merges for BPE) is absent */
  | "MISSING_METADATA"
  /** a metadata key is present with the wrong GGUF type or array length */
  | "BAD_METADATA"
  /** a token id outside [0, vocabSize) */
  | "TOKEN_OUT_OF_RANGE"
  /** encode() was asked to add BOS/EOS but the vocabulary has none */
  | "NO_SPECIAL_TOKEN";

/** A vocabulary the tokenizer cannot use, or a token id outside it. */
export class TokenizerError extends LayerstreamError {
  declare readonly code: TokenizerErrorCode;

  constructor(code: TokenizerErrorCode, message: string) {
    super(code, message);
  }
}
