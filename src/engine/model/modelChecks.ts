/**
 * Everything loading checks before a model runs, in one place: the hyper-parameters (each
 * range-checked), the tokenizer (special ids inside the vocabulary), the vocabulary against the
 * embeddings, the head's and every block's tensors, and no tensors of blocks beyond
 * `block_count`. `Model.open` stops at the first problem; `modelProblems` lists them all
 * (`layerstream inspect`'s "would refuse" line).
 */
import type { GgufFile } from "../gguf/types.js";
import { LayerstreamError, ModelFormatError } from "../errors.js";
import { loadTokenizer, type Tokenizer } from "../tokenizer/index.js";
import { readHparams, type ModelHparams } from "./hparams.js";
import { headTensors, layerTensors, type HeadTensors, type LayerTensors } from "./weights.js";

export interface CheckedModel {
  readonly hparams: ModelHparams;
  readonly tokenizer: Tokenizer;
  readonly head: HeadTensors;
  readonly layers: readonly LayerTensors[];
}

/** @throws LayerstreamError (ModelFormatError, TokenizerError, UnsupportedArchitectureError, …) at the first problem */
export function checkModel(file: GgufFile): CheckedModel {
  const hparams = readHparams(file);
  const tokenizer = loadTokenizer(file);
  checkVocabulary(tokenizer, hparams);
  const head = headTensors(file, hparams);
  checkLayerCount(file, hparams.nLayer);
  const layers = Array.from({ length: hparams.nLayer }, (_, il) => layerTensors(file, hparams, il));
  return { hparams, tokenizer, head, layers };
}

/** Every problem loading would refuse the file for, one line each (empty: it loads). */
export function modelProblems(file: GgufFile): string[] {
  const problems: string[] = [];
  const attempt = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof LayerstreamError)) throw error;
      problems.push(error.message);
      return undefined;
    }
  };
  const hparams = attempt(() => readHparams(file));
  const tokenizer = attempt(() => loadTokenizer(file));
  if (!hparams) return problems;
  if (tokenizer) attempt(() => checkVocabulary(tokenizer, hparams));
  attempt(() => headTensors(file, hparams));
  attempt(() => checkLayerCount(file, hparams.nLayer));
  for (let il = 0; il < hparams.nLayer; il++) attempt(() => layerTensors(file, hparams, il));
  return problems;
}

/** The tokenizer's ids must all have an embedding row, and every row a token (llama.cpp requires the two to be equal). */
export function checkVocabulary(tokenizer: Tokenizer, hparams: ModelHparams): void {
  if (tokenizer.vocabSize !== hparams.nVocab) {
    throw new ModelFormatError("VOCAB_MISMATCH", `the vocabulary has ${tokenizer.vocabSize} tokens but token_embd.weight has ${hparams.nVocab} rows`);
  }
}

/** Tensors of a block at or past `block_count` mean the count is wrong (the file's blocks would silently not run). */
export function checkLayerCount(file: GgufFile, nLayer: number): void {
  let highest = -1;
  let example = "";
  for (const tensor of file.tensors) {
    const match = /^blk\.(\d+)\./.exec(tensor.name);
    if (match && Number(match[1]) > highest) {
      highest = Number(match[1]);
      example = tensor.name;
    }
  }
  if (highest >= nLayer) {
    throw new ModelFormatError("LAYER_COUNT_MISMATCH", `block_count is ${nLayer} but the file has tensors of block ${highest} ("${example}"): ${highest + 1} or more blocks`);
  }
}
