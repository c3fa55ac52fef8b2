/** Public surface of the tokenizer. */
export { Tokenizer, createTokenizer, type EncodeOptions, type DecodeOptions, type PieceOptions } from "./Tokenizer.js";
export { StreamingDecoder, type StreamingDecoderOptions } from "./StreamingDecoder.js";
export { loadTokenizer, readVocabSpec } from "./loadTokenizer.js";
export { TokenizerError, type TokenizerErrorCode } from "./errors.js";
export { TokenAttr, GgufTokenType } from "./tokenAttr.js";
export type { VocabSpec, TokenizerType } from "./vocab.js";
