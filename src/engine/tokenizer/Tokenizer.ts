/**
 * The tokenizer of a GGUF model: SentencePiece-style ("llama"), BPE ("gpt2", "gemma4") or
 * WordPiece ("bert"), token-identical to llama.cpp's `llama_tokenize` / `llama_token_to_piece` /
 * `llama_detokenize`.
 */

import { TokenizerError } from "./errors.js";
import { fragmentEncoder, type FragmentEncoder } from "./fragmentEncoders.js";
import { partitionSpecialTokens } from "./specialPartition.js";
import { cleanSpaces, computeTokenPiece } from "./tokenPieces.js";
import { toWellFormed } from "./utf8.js";
import { buildVocab, type TokenizerType, type Vocab, type VocabSpec } from "./vocab.js";

export interface EncodeOptions {
  /** add BOS (and EOS) as the model's add_bos_token/add_eos_token say; default true */
  readonly addSpecial?: boolean;
  /** split control-token texts ("<s>", "<|im_start|>") out of the text as their ids; default false */
  readonly parseSpecial?: boolean;
}

export interface PieceOptions {
  /** render control/unknown tokens as their text; default false */
  readonly special?: boolean;
}

export interface DecodeOptions extends PieceOptions {
  /**
   * Drop one leading space from the first token's piece. Default: the vocabulary's
   * add_space_prefix (SPM: true), which is what `llama_detokenize` does. Note that a leading
   * BOS absorbs it (its piece is empty), exactly as in llama.cpp. Pass false to decode a
   * continuation that follows earlier text.
   */
  readonly removeLeadingSpace?: boolean;
  /** BPE clean_up_tokenization_spaces; default: the pre-tokenizer's setting (llama.cpp) */
  readonly cleanSpaces?: boolean;
}

export class Tokenizer {
  readonly type: TokenizerType;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly unkId: number | undefined;
  readonly padId: number | undefined;
  /** encode(…, { addSpecial: true }) prepends BOS */
  readonly addBos: boolean;
  /** encode(…, { addSpecial: true }) appends EOS */
  readonly addEos: boolean;
  /** SPM: a space is put in front of text that starts the input or follows a special token */
  readonly addSpacePrefix: boolean;

  private readonly encodeFragments: FragmentEncoder;
  private readonly pieces: (Uint8Array | undefined)[];
  private readonly specialPieces: (Uint8Array | undefined)[];

  constructor(readonly vocab: Vocab) {
    this.type = vocab.type;
    this.vocabSize = vocab.size;
    this.bosId = vocab.special.bos;
    this.eosId = vocab.special.eos;
    this.eotId = vocab.special.eot;
    this.unkId = vocab.special.unk;
    this.padId = vocab.special.pad;
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    this.addSpacePrefix = vocab.addSpacePrefix;
    this.encodeFragments = fragmentEncoder(vocab);
    this.pieces = new Array(vocab.size);
    this.specialPieces = new Array(vocab.size);
  }

  /** Token ids of `text`, as `llama_tokenize(text, addSpecial, parseSpecial)`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecial ?? true;
    const fragments = partitionSpecialTokens(this.vocab, toWellFormed(text), options.parseSpecial ?? false);
    const output: number[] = [];
    if (addSpecial && this.addBos) output.push(this.requireSpecial(this.bosId, "BOS"));
    this.encodeFragments(fragments, output);
    if (addSpecial && this.addEos) output.push(this.requireSpecial(this.eosId, "EOS"));
    if (addSpecial && this.vocab.addSep) output.push(this.requireSpecial(this.vocab.special.sep, "separator"));
    return output;
  }

  /**
   * The bytes token `id` contributes to the text (`llama_token_to_piece`, lstrip 0). The array
   * is cached and shared: do not modify it.
   */
  tokenPiece(id: number, options: PieceOptions = {}): Uint8Array {
    this.checkId(id);
    const cache = options.special ? this.specialPieces : this.pieces;
    let piece = cache[id];
    if (piece === undefined) {
      piece = computeTokenPiece(this.vocab, id, options.special ?? false);
      cache[id] = piece;
    }
    return piece;
  }

  /** The bytes of `ids` as `llama_detokenize(ids, remove_special=false, unparse_special)`. */
  decodeBytes(ids: readonly number[], options: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    let nBytes = 0;
    ids.forEach((id, i) => {
      let piece = this.tokenPiece(id, options);
      if (i === 0 && (options.removeLeadingSpace ?? this.addSpacePrefix) && piece[0] === 0x20) piece = piece.subarray(1);
      parts.push(piece);
      nBytes += piece.length;
    });
    let bytes: Uint8Array = new Uint8Array(nBytes);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    if (options.cleanSpaces ?? this.vocab.cleanSpaces) bytes = cleanSpaces(bytes);
    return bytes;
  }

  /** Text of `ids`; invalid UTF-8 becomes U+FFFD. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(this.decodeBytes(ids, options));
  }

  /** end of generation: EOS, EOT, EOM and the other end tokens llama.cpp recognises by text */
  isEog(id: number): boolean {
    return this.vocab.eogIds.has(id);
  }

  /** the vocabulary text of a token ("▁Once", "<0x0A>", "Ġthe") */
  tokenText(id: number): string {
    this.checkId(id);
    return this.vocab.texts[id];
  }

  /** TokenAttr bits of a token */
  tokenAttr(id: number): number {
    this.checkId(id);
    return this.vocab.attrs[id];
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError("TOKEN_OUT_OF_RANGE", `token id ${id} is outside [0, ${this.vocabSize})`);
    }
  }

  private requireSpecial(id: number | undefined, name: string): number {
    if (id === undefined) throw new TokenizerError("NO_SPECIAL_TOKEN", `the vocabulary has no ${name} token to add`);
    return id;
  }
}

/** A tokenizer from already-decoded tokenizer metadata (hand-built vocabularies in tests). */
export function createTokenizer(spec: VocabSpec): Tokenizer {
  return new Tokenizer(buildVocab(spec));
}
