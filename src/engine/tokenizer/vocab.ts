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

/** SentencePiece ("llama"), byte-level or SentencePiece-style BPE ("gpt2", "gemma4"), WordPiece ("bert") */
export type TokenizerType = "spm" | "bpe" | "wpm";

/** Everything a vocabulary is built from: the `tokenizer.ggml.*` metadata, already decoded. */
export interface VocabSpec {
  /** tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), "gemma4" (SentencePiece-style BPE) or "bert" (WordPiece) */
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
  /** tokenizer.ggml.normalizer.lowercase (WordPiece; default true) */
  readonly normalizerLowercase?: boolean;
  /** tokenizer.ggml.normalizer.strip_accents (WordPiece; default: as lowercase) */
  readonly normalizerStripAccents?: boolean;
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
  /** encode(…, { addSpecial: true }) appends the separator token (WordPiece) */
  readonly addSep: boolean;
  /** token texts spell spaces as "▁" (SentencePiece, WordPiece, gemma4's BPE) */
  readonly escapeWhitespaces: boolean;
  /** WordPiece normalizer: lowercase, and drop accent marks after NFD */
  readonly normalizer: { readonly lowercase: boolean; readonly stripAccents: boolean };
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

/** What a tokenizer.ggml.model value means in llama.cpp's `llama_vocab::impl::load`. */
interface TokenizerModel {
  readonly type: TokenizerType;
  /** special ids used when the metadata has none */
  readonly defaultIds: Partial<SpecialIds>;
  /** the pre-tokenizer this model always uses, whatever tokenizer.ggml.pre says */
  readonly pre?: string;
  /** add_space_prefix when the metadata does not say */
  readonly addSpacePrefix: boolean;
  /** add_special frames the text with BOS ([CLS]) and the separator, whatever add_bos/add_eos say (WordPiece) */
  readonly framesWithSep: boolean;
}

const TOKENIZER_MODELS: ReadonlyMap<string, TokenizerModel> = new Map<string, TokenizerModel>([
  ["llama", { type: "spm", defaultIds: { bos: 1, eos: 2, unk: 0 }, addSpacePrefix: true, framesWithSep: false }],
  ["gpt2", { type: "bpe", defaultIds: { bos: 11, eos: 11 }, addSpacePrefix: false, framesWithSep: false }],
  ["gemma4", { type: "bpe", defaultIds: {}, pre: "gemma4", addSpacePrefix: false, framesWithSep: false }],
  ["bert", { type: "wpm", defaultIds: { bos: 101, unk: 100, sep: 102, pad: 0 }, addSpacePrefix: false, framesWithSep: true }],
]);

function resolveSpecialIds(model: TokenizerModel, spec: VocabSpec, nTokens: number): SpecialIds {
  const defaults = model.defaultIds;
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

/** The vocabulary of decoded tokenizer metadata. Throws TokenizerError for an unsupported model or pre-tokenizer. */
export function buildVocab(spec: VocabSpec): Vocab {
  const model = tokenizerModel(spec);
  const type = model.type;
  const preTokenizer = type === "bpe" ? bpePreTokenizer(spec, model.pre ?? spec.pre ?? "") : undefined;
  const { texts, scores, attrs, idByText } = tokenTable(spec);
  const special = resolveSpecialIds(model, spec, texts.length);
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
    addBos: addBosFlag(model, spec, preTokenizer),
    addEos: !model.framesWithSep && (spec.addEos ?? false),
    addSpacePrefix: spec.addSpacePrefix ?? model.addSpacePrefix,
    addSep: model.framesWithSep,
    escapeWhitespaces: preTokenizer?.escapeWhitespaces ?? true,
    normalizer: {
      lowercase: spec.normalizerLowercase ?? true,
      stripAccents: spec.normalizerStripAccents ?? spec.normalizerLowercase ?? true,
    },
    preTokenizer,
    cleanSpaces: preTokenizer?.cleanSpaces ?? false,
    specialTokenIds: specialTokenOrder(texts, attrs),
    textToId: (text) => idByText.get(text) ?? -1,
    mergeRank: (left, right) => mergeRanks.get(left)?.get(right) ?? -1,
  };
}

/** llama.cpp's add_bos: WordPiece always adds its [CLS]; else the metadata, else the pre-tokenizer's default (SPM: true). */
function addBosFlag(model: TokenizerModel, spec: VocabSpec, preTokenizer: PreTokenizerSpec | undefined): boolean {
  if (model.framesWithSep || preTokenizer?.forceAddBos) return true;
  return spec.addBos ?? preTokenizer?.addBos ?? true;
}

/** What tokenizer.ggml.model names; UNSUPPORTED_TOKENIZER_MODEL when it is none we implement. */
function tokenizerModel(spec: VocabSpec): TokenizerModel {
  const model = TOKENIZER_MODELS.get(spec.model);
  if (model === undefined) {
    const supported = [...TOKENIZER_MODELS.keys()].map((name) => `"${name}"`).join(", ");
    throw new TokenizerError("UNSUPPORTED_TOKENIZER_MODEL", `tokenizer.ggml.model "${spec.model}" is not supported (supported: ${supported})`);
  }
  return model;
}

/** A BPE vocabulary's pre-tokenizer (`pre`, "" when absent), after checking that it has merges. */
function bpePreTokenizer(spec: VocabSpec, pre: string): PreTokenizerSpec {
  const preTokenizer = findPreTokenizer(pre);
  if (preTokenizer === undefined) {
    throw new TokenizerError(
      "UNSUPPORTED_PRE_TOKENIZER",
      `tokenizer.ggml.pre "${pre}" is not supported (supported: ${supportedPreTokenizerNames().join(", ")})`,
    );
  }
  if (spec.merges === undefined) {
    throw new TokenizerError("MISSING_METADATA", `tokenizer.ggml.merges is required for a ${spec.model} (BPE) tokenizer`);
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
