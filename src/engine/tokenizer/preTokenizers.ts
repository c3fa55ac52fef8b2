/**
 * BPE pre-tokenizers by `tokenizer.ggml.pre` name, as llama.cpp's `llama_vocab::impl::load` and
 * `llm_tokenizer_bpe` configure them: the split regexes, whether a whole word found in the
 * vocabulary skips merging (ignore_merges), the add_bos default, the detokenizer's
 * clean_up_tokenization_spaces, and for SentencePiece-style BPE (gemma4) raw UTF-8 symbols with
 * spaces escaped as "▁".
 */

import { REGEX_GPT2, REGEX_LLAMA3, REGEX_NEWLINE_RUNS, REGEX_QWEN2, REGEX_QWEN35 } from "./regexSplit.js";

export interface PreTokenizerSpec {
  /** llama.cpp's LLAMA_VOCAB_PRE_TYPE_* family, for messages and tests */
  readonly family: string;
  readonly regexes: readonly string[];
  readonly ignoreMerges: boolean;
  readonly addBos: boolean;
  /** add_bos is true even when tokenizer.ggml.add_bos_token says false (llama.cpp's Gemma 4 workaround) */
  readonly forceAddBos: boolean;
  readonly cleanSpaces: boolean;
  /** words are spelled with the GPT-2 byte characters (false: raw UTF-8, byte fallback to "<0xXX>") */
  readonly byteEncode: boolean;
  /** spaces become "▁" before tokenizing, and back in token pieces */
  readonly escapeWhitespaces: boolean;
  /** a word made only of line feeds that is a token is emitted whole, unmerged (gemma4) */
  readonly wholeLineFeedWords: boolean;
}

type PreTokenizerOptions = Partial<Omit<PreTokenizerSpec, "family" | "regexes">>;

const REGEX_DEFAULT: readonly string[] = [
  String.raw`[\p{P}\$\+<=>\^~\|]+`,
  REGEX_GPT2,
  String.raw`\p{N}+`,
  "[0-9][0-9][0-9]",
];
const REGEX_SMOLLM: readonly string[] = [String.raw`\p{N}`, REGEX_GPT2];
const REGEX_TEKKEN =
  String.raw`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

const REGEX_FALCON: readonly string[] = [
  String.raw`[\p{P}\$\+<=>\^~\|\`]+`,
  REGEX_GPT2,
  "[0-9][0-9][0-9]",
];
/** deepseek-llm's Latin/Greek/Cyrillic/… letter ranges, as listed by llama.cpp (escaped: some of them have canonical equivalents an editor could normalize) */
const DEEPSEEK_LLM_LETTERS =
  "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\u{10400}-\u{1044f}\u{104b0}-\u{104d3}\u{104d8}-\u{104fb}\u{10c80}-\u{10cb2}\u{10cc0}-\u{10cf2}\u{118a0}-\u{118df}\u{1e900}-\u{1e943}";
/** CJK ideographs, U+0800..U+4E00 and Hangul, split off as whole runs (deepseek) */
const REGEX_DEEPSEEK_CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
const REGEX_DEEPSEEK_LLM: readonly string[] = [
  "[\r\n]",
  String.raw`\s?[${DEEPSEEK_LLM_LETTERS}]+`,
  "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
  String.raw`\s+$`,
  REGEX_DEEPSEEK_CJK,
  String.raw`\p{N}+`,
];
const REGEX_DEEPSEEK_CODER: readonly string[] = [
  "[\r\n]",
  String.raw`\s?\p{L}+`,
  String.raw`\s?\p{P}+`,
  REGEX_DEEPSEEK_CJK,
  String.raw`\p{N}`,
];

function spec(family: string, regexes: readonly string[], options: PreTokenizerOptions = {}): PreTokenizerSpec {
  return {
    family,
    regexes,
    ignoreMerges: options.ignoreMerges ?? false,
    addBos: options.addBos ?? false,
    forceAddBos: options.forceAddBos ?? false,
    cleanSpaces: options.cleanSpaces ?? true,
    byteEncode: options.byteEncode ?? true,
    escapeWhitespaces: options.escapeWhitespaces ?? false,
    wholeLineFeedWords: options.wholeLineFeedWords ?? false,
  };
}

const DEFAULT = spec("default", REGEX_DEFAULT);
const LLAMA3 = spec("llama3", [REGEX_LLAMA3], { ignoreMerges: true, addBos: true });
const DBRX = spec("dbrx", [REGEX_LLAMA3]);
const GPT2 = spec("gpt2", [REGEX_GPT2]);
const QWEN2 = spec("qwen2", [REGEX_QWEN2], { cleanSpaces: false });
const STABLELM2 = spec("qwen2", [REGEX_QWEN2]);
const SMOLLM = spec("smollm", REGEX_SMOLLM, { cleanSpaces: false });
const STARCODER = spec("smollm", REGEX_SMOLLM);
const TEKKEN = spec("tekken", [REGEX_TEKKEN], { ignoreMerges: true, addBos: true, cleanSpaces: false });
const FALCON = spec("falcon", REGEX_FALCON);
const DEEPSEEK_LLM = spec("deepseek-llm", REGEX_DEEPSEEK_LLM, { cleanSpaces: false });
const DEEPSEEK_CODER = spec("deepseek-coder", REGEX_DEEPSEEK_CODER, { cleanSpaces: false });
const QWEN35 = spec("qwen35", [REGEX_QWEN35], { cleanSpaces: false });
const GEMMA4 = spec("gemma4", [REGEX_NEWLINE_RUNS], {
  forceAddBos: true,
  byteEncode: false,
  escapeWhitespaces: true,
  wholeLineFeedWords: true,
});

const PRE_TOKENIZERS: ReadonlyMap<string, PreTokenizerSpec> = new Map<string, PreTokenizerSpec>([
  ["", DEFAULT],
  ["default", DEFAULT],
  ...["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"].map(
    (name) => [name, LLAMA3] as const,
  ),
  ["dbrx", DBRX],
  ["smaug-bpe", DBRX],
  ...["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert"].map(
    (name) => [name, GPT2] as const,
  ),
  ["mpt", GPT2],
  ["olmo", GPT2],
  ["jais", GPT2],
  ["exaone4", GPT2],
  ...["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2"].map((name) => [name, QWEN2] as const),
  ["megrez", STABLELM2],
  ["stablelm2", STABLELM2],
  ["smollm", SMOLLM],
  ["command-r", SMOLLM],
  ...["starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"].map((name) => [name, STARCODER] as const),
  ["tekken", TEKKEN],
  ["falcon", FALCON],
  ["deepseek-llm", DEEPSEEK_LLM],
  ["deepseek-coder", DEEPSEEK_CODER],
  ["qwen35", QWEN35],
  ["gemma4", GEMMA4],
  ["granite-embed-multi-311m", GEMMA4],
]);

/** The pre-tokenizer for a `tokenizer.ggml.pre` value ("" when absent), or undefined. */
export function findPreTokenizer(name: string): PreTokenizerSpec | undefined {
  return PRE_TOKENIZERS.get(name);
}

export function supportedPreTokenizerNames(): string[] {
  return [...PRE_TOKENIZERS.keys()].filter((name) => name !== "");
}
