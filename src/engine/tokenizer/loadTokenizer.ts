/** Building a Tokenizer from a GGUF file's `tokenizer.ggml.*` metadata. */

import { GgufFormatError } from "../gguf/errors.js";
import {
  hasKey,
  optionalBool,
  optionalNumber,
  optionalNumberArray,
  optionalString,
  optionalStringArray,
  getString,
  getStringArray,
} from "../gguf/metadata.js";
import type { GgufFile } from "../gguf/types.js";
import { TokenizerError } from "./errors.js";
import { Tokenizer } from "./Tokenizer.js";
import { buildVocab, type VocabSpec } from "./vocab.js";

const KEY = "tokenizer.ggml.";

type SpecialIdField = Extract<keyof VocabSpec, `${string}Id`>;

const SPECIAL_ID_KEYS: readonly (readonly [SpecialIdField, string])[] = [
  ["bosId", "bos_token_id"],
  ["eosId", "eos_token_id"],
  ["eotId", "eot_token_id"],
  ["eomId", "eom_token_id"],
  ["unkId", "unknown_token_id"],
  ["sepId", "seperator_token_id"],
  ["padId", "padding_token_id"],
  ["fimPreId", "fim_pre_token_id"],
  ["fimSufId", "fim_suf_token_id"],
  ["fimMidId", "fim_mid_token_id"],
  ["fimPadId", "fim_pad_token_id"],
  ["fimRepId", "fim_rep_token_id"],
  ["fimSepId", "fim_sep_token_id"],
  // deprecated names, read after the new ones like llama.cpp (they win when both exist)
  ["fimPreId", "prefix_token_id"],
  ["fimSufId", "suffix_token_id"],
  ["fimMidId", "middle_token_id"],
];

/** The decoded `tokenizer.ggml.*` metadata of a GGUF file. */
export function readVocabSpec(file: GgufFile): VocabSpec {
  for (const key of ["model", "tokens"]) {
    if (!hasKey(file, KEY + key)) throw new TokenizerError("MISSING_METADATA", `metadata key "${KEY + key}" is missing`);
  }
  try {
    const spec: { -readonly [K in keyof VocabSpec]: VocabSpec[K] } = {
      model: getString(file, KEY + "model"),
      pre: optionalString(file, KEY + "pre"),
      tokens: getStringArray(file, KEY + "tokens"),
      scores: optionalNumberArray(file, KEY + "scores"),
      tokenTypes: optionalNumberArray(file, KEY + "token_type"),
      merges: optionalStringArray(file, KEY + "merges"),
      addBos: optionalBool(file, KEY + "add_bos_token"),
      addEos: optionalBool(file, KEY + "add_eos_token"),
      addSpacePrefix: optionalBool(file, KEY + "add_space_prefix"),
      normalizerLowercase: optionalBool(file, KEY + "normalizer.lowercase"),
      normalizerStripAccents: optionalBool(file, KEY + "normalizer.strip_accents"),
    };
    for (const [field, key] of SPECIAL_ID_KEYS) {
      const id = optionalNumber(file, KEY + key);
      if (id !== undefined && !NO_TOKEN_IDS.has(id)) spec[field] = checkedTokenId(id, KEY + key, spec.tokens.length);
    }
    return spec;
  } catch (error) {
    if (error instanceof GgufFormatError && error.code === "WRONG_TYPE") {
      throw new TokenizerError("BAD_METADATA", error.message);
    }
    throw error;
  }
}

/** How converters write "no such token" (llama.cpp's LLAMA_TOKEN_NULL, -1, as an int32 or a u32). */
const NO_TOKEN_IDS: ReadonlySet<number> = new Set([-1, 0xffffffff]);

/** A special token id from the metadata: an id of the vocabulary, or a one-line error naming the key. */
function checkedTokenId(id: number, key: string, nTokens: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= nTokens) {
    throw new TokenizerError("TOKEN_OUT_OF_RANGE", `${key} = ${id} is outside the vocabulary [0, ${nTokens})`);
  }
  return id;
}

/** The model's tokenizer. Throws TokenizerError for an unsupported model or pre-tokenizer. */
export function loadTokenizer(file: GgufFile): Tokenizer {
  return new Tokenizer(buildVocab(readVocabSpec(file)));
}
