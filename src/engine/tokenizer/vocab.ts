/**
 * The vocabulary as llama.cpp holds it after `llama_vocab::impl::load`: token texts, scores and
 * attributes, the text → id map, BPE merge ranks, special ids with llama.cpp's defaults, the
 * add_bos/add_eos/add_space_prefix flags, and the list of special tokens that are split out
 * of the text before tokenizing.
 */

import { TokenizerError } from "./errors.js";
import { findPreTokenizer, supportedPreTokenizerNames, type PreTokenizerSpec } from "./preTokenizers.js";
import { detectSpecialTokens, type SpecialIds } from "./specialTokens.js";
import { TokenAttr, attrFromGgufTokenType } from "./tokenAttr.js";
import { utf8Length } from "./utf8.js";

export type TokenizerType = "spm" | "bpe";

/** Everything a vocabulary is built from: the `tokenizer.ggml.*` metadata, already decoded. */
export interface VocabSpec {
  /** tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE) */
  readonly model: string;
  /** tokenizer.ggml.pre (BPE only); absent means "default" */
  readonly pre?: string;
  readonly tokens: readonly string[];
  readonly scores?: ArrayLike<number>;
  /** tokenizer.ggml.token_type values (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) */
  readonly tokenTypes?: ArrayLike<number>;
  /** BPE merges, "left right", in rank order */
  readonly merges?: readonly string[];
  readonly bosId?: number;
  readonly eosId?: number;
  readonly eotId?: number;
  readonly eomId?: number;
  readonly unkId?: number;
  readonly sepId?: number;
  readonly padId?: number;
  readonly fimPreId?: number;
  readonly fimSufId?: number;
  readonly fimMidId?: number;
  readonly fimPadId?: number;
  readonly fimRepId?: number;
  readonly fimSepId?: number;
  readonly addBos?: boolean;
  readonly addEos?: boolean;
  readonly addSpacePrefix?: boolean;
}

export interface Vocab {
  readonly type: TokenizerType;
  readonly size: number;
  readonly texts: readonly string[];
  readonly scores: Float32Array;
  /** TokenAttr bits per token */
  readonly attrs: Uint8Array;
  readonly special: Readonly<SpecialIds>;
  readonly eogIds: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  /** BPE only */
  readonly preTokenizer: PreTokenizerSpec | undefined;
  /** detokenizer clean_up_tokenization_spaces (BPE pre-tokenizers) */
  readonly cleanSpaces: boolean;
  /** control, user-defined and unknown tokens, longest text first (tokenizer_st_partition order) */
  readonly specialTokenIds: readonly number[];
  /** id of a token text, or -1 */
  textToId(text: string): number;
  /** BPE merge rank of (left, right), or -1 */
  mergeRank(left: string, right: string): number;
}

const DEFAULT_SPECIAL_IDS: Readonly<Record<TokenizerType, Partial<SpecialIds>>> = {
  spm: { bos: 1, eos: 2, unk: 0 },
  bpe: { bos: 11, eos: 11 },
};

const MODEL_TYPES: ReadonlyMap<string, TokenizerType> = new Map([
  ["llama", "spm"],
  ["gpt2", "bpe"],
]);

function resolveSpecialIds(type: TokenizerType, spec: VocabSpec, nTokens: number): SpecialIds {
  const defaults = DEFAULT_SPECIAL_IDS[type];
  const fromMetadata: Record<keyof SpecialIds, number | undefined> = {
    bos: spec.bosId,
    eos: spec.eosId,
    eot: spec.eotId,
    eom: spec.eomId,
    unk: spec.unkId,
    sep: spec.sepId,
    pad: spec.padId,
    fimPre: spec.fimPreId,
    fimSuf: spec.fimSufId,
    fimMid: spec.fimMidId,
    fimPad: spec.fimPadId,
    fimRep: spec.fimRepId,
    fimSep: spec.fimSepId,
  };
  const inRange = (id: number | undefined) => id !== undefined && Number.isInteger(id) && id >= 0 && id < nTokens;
  const ids = {} as SpecialIds;
  for (const key of Object.keys(fromMetadata) as (keyof SpecialIds)[]) {
    // an out-of-range default is disabled; an out-of-range metadata id keeps the default
    const fallback = inRange(defaults[key]) ? defaults[key] : undefined;
    const given = fromMetadata[key];
    ids[key] = inRange(given) ? given : fallback;
  }
  return ids;
}

function buildMergeRanks(merges: readonly string[]): Map<string, Map<string, number>> {
  const ranks = new Map<string, Map<string, number>>();
  merges.forEach((merge, rank) => {
    const pos = merge.indexOf(" ", 1);
    const left = pos === -1 ? "" : merge.slice(0, pos);
    const right = pos === -1 ? "" : merge.slice(pos + 1);
    let byRight = ranks.get(left);
    if (byRight === undefined) ranks.set(left, (byRight = new Map()));
    if (!byRight.has(right)) byRight.set(right, rank);
  });
  return ranks;
}

export function buildVocab(spec: VocabSpec): Vocab {
  const type = tokenizerType(spec);
  const preTokenizer = type === "bpe" ? bpePreTokenizer(spec) : undefined;
  const { texts, scores, attrs, idByText } = tokenTable(spec);
  const special = resolveSpecialIds(type, spec, texts.length);
  const eogIds = detectSpecialTokens(texts, attrs, special);
  const mergeRanks = buildMergeRanks(spec.merges ?? []);
  return {
    type,
    size: texts.length,
    texts,
    scores,
    attrs,
    special,
    eogIds,
    addBos: spec.addBos ?? (type === "spm" ? true : preTokenizer!.addBos),
    addEos: spec.addEos ?? false,
    addSpacePrefix: spec.addSpacePrefix ?? type === "spm",
    preTokenizer,
    cleanSpaces: type === "bpe" ? preTokenizer!.cleanSpaces : false,
    specialTokenIds: specialTokenOrder(texts, attrs),
    textToId: (text) => idByText.get(text) ?? -1,
    mergeRank: (left, right) => mergeRanks.get(left)?.get(right) ?? -1,
  };
}

/** "spm" for tokenizer.ggml.model "llama", "bpe" for "gpt2"; UNSUPPORTED_TOKENIZER_MODEL otherwise. */
function tokenizerType(spec: VocabSpec): TokenizerType {
  const type = MODEL_TYPES.get(spec.model);
  if (type === undefined) {
    throw new TokenizerError(
      "UNSUPPORTED_TOKENIZER_MODEL",
      `tokenizer.ggml.model "${spec.model}" is not supported (expected "llama" or "gpt2")`,
    );
  }
  return type;
}

/** A BPE vocabulary's pre-tokenizer (tokenizer.ggml.pre), after checking that it has merges. */
function bpePreTokenizer(spec: VocabSpec): PreTokenizerSpec {
  const preTokenizer = findPreTokenizer(spec.pre ?? "");
  if (preTokenizer === undefined) {
    throw new TokenizerError(
      "UNSUPPORTED_PRE_TOKENIZER",
      `tokenizer.ggml.pre "${spec.pre}" is not supported (supported: ${supportedPreTokenizerNames().join(", ")})`,
    );
  }
  if (spec.merges === undefined) {
    throw new TokenizerError("MISSING_METADATA", "tokenizer.ggml.merges is required for a gpt2 (BPE) tokenizer");
  }
  return preTokenizer;
}

/** Token texts (an empty one becomes "[EMPTY_<id>]", as in llama.cpp), scores, attributes and the text → id map. */
function tokenTable(spec: VocabSpec): { texts: string[]; scores: Float32Array; attrs: Uint8Array; idByText: Map<string, number> } {
  const nTokens = spec.tokens.length;
  for (const [name, values] of [["scores", spec.scores], ["token_type", spec.tokenTypes]] as const) {
    if (values !== undefined && values.length < nTokens) {
      throw new TokenizerError("BAD_METADATA", `tokenizer.ggml.${name} has ${values.length} entries for ${nTokens} tokens`);
    }
  }
  const texts = spec.tokens.map((text, id) => (text.length === 0 ? `[EMPTY_${id}]` : text));
  const scores = new Float32Array(nTokens);
  const attrs = new Uint8Array(nTokens);
  const idByText = new Map<string, number>();
  for (let id = 0; id < nTokens; id++) {
    idByText.set(texts[id], id);
    scores[id] = spec.scores?.[id] ?? 0;
    attrs[id] = spec.tokenTypes === undefined ? TokenAttr.NORMAL : attrFromGgufTokenType(spec.tokenTypes[id]);
  }
  return { texts, scores, attrs, idByText };
}

/** Control, user-defined and unknown tokens, longest UTF-8 text first, then by id (tokenizer_st_partition order). */
function specialTokenOrder(texts: readonly string[], attrs: Uint8Array): number[] {
  const specialMask = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;
  const specialTokenIds: number[] = [];
  for (let id = 0; id < texts.length; id++) if (attrs[id] & specialMask) specialTokenIds.push(id);
  const nBytes = (id: number) => utf8Length(texts[id]);
  specialTokenIds.sort((a, b) => nBytes(b) - nBytes(a) || a - b);
  return specialTokenIds;
}
