/**
 * BPE pre-tokenizers by `tokenizer.ggml.pre` name, as llama.cpp's `llama_vocab::impl::load` and
 * `llm_tokenizer_bpe` configure them: the split regexes, whether a whole word found in the
 * vocabulary skips merging (ignore_merges), the add_bos default and the detokenizer's
 * clean_up_tokenization_spaces.
 */

import { REGEX_GPT2, REGEX_LLAMA3, REGEX_QWEN2 } from "./regexSplit.js";

export interface PreTokenizerSpec {
  /** llama.cpp's LLAMA_VOCAB_PRE_TYPE_* family, for messages and tests */
  readonly family: string;
  readonly regexes: readonly string[];
  readonly ignoreMerges: boolean;
  readonly addBos: boolean;
  readonly cleanSpaces: boolean;
}

const REGEX_DEFAULT: readonly string[] = [
  String.raw`[\p{P}\$\+<=>\^~\|]+`,
  REGEX_GPT2,
  String.raw`\p{N}+`,
  "[0-9][0-9][0-9]",
];
const REGEX_SMOLLM: readonly string[] = [String.raw`\p{N}`, REGEX_GPT2];
const REGEX_TEKKEN =
  String.raw`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

function spec(
  family: string,
  regexes: readonly string[],
  options: { ignoreMerges?: boolean; addBos?: boolean; cleanSpaces?: boolean } = {},
): PreTokenizerSpec {
  return {
    family,
    regexes,
    ignoreMerges: options.ignoreMerges ?? false,
    addBos: options.addBos ?? false,
    cleanSpaces: options.cleanSpaces ?? true,
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
]);

/** The pre-tokenizer for a `tokenizer.ggml.pre` value ("" when absent), or undefined. */
export function findPreTokenizer(name: string): PreTokenizerSpec | undefined {
  return PRE_TOKENIZERS.get(name);
}

export function supportedPreTokenizerNames(): string[] {
  return [...PRE_TOKENIZERS.keys()].filter((name) => name !== "");
}
