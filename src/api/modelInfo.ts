/** What a loaded model is, for `model.info`. */
import path from "node:path";
import type { Model } from "../engine/model/model.js";
import { optionalString } from "../engine/gguf/metadata.js";
import { quantizationName } from "../engine/gguf/inspection.js";

/** Where the model file came from (see loadModel's `model` option). */
export type ModelSource = "default" | "builtin" | "path" | "cache" | "pulled";

export interface ModelInfo {
  /** the file's name without `.gguf` */
  readonly name: string;
  readonly path: string;
  readonly source: ModelSource;
  readonly fileBytes: number;
  /** `general.architecture`, e.g. "llama" */
  readonly architecture: string;
  /** number of weights (tensor elements) */
  readonly parameters: number;
  /** e.g. "Q4_K_M", "Q8_0", "F16" (from `general.file_type`, else the type of most weight bytes) */
  readonly quantization: string;
  readonly layers: number;
  readonly embeddingSize: number;
  readonly vocabularySize: number;
  /** positions per sequence this model was loaded with */
  readonly contextSize: number;
  /** positions the model was trained with */
  readonly trainedContextSize: number;
  /** `tokenizer.chat_template`, when the file has one */
  readonly chatTemplate: string | undefined;
  /** how the layers run, e.g. "local, all layers resident (mmap)" or "cluster of 2 workers (…)" */
  readonly runner: string;
}

export function describeModel(model: Model, source: ModelSource, runner: string): ModelInfo {
  const { file, hparams } = model;
  return {
    name: path.basename(model.path).replace(/\.gguf$/i, ""),
    path: model.path,
    source,
    fileBytes: file.fileBytes,
    architecture: hparams.architecture,
    parameters: file.tensors.reduce((n, t) => n + t.nElements, 0),
    quantization: quantizationName(file) ?? "unknown",
    layers: hparams.nLayer,
    embeddingSize: hparams.nEmbd,
    vocabularySize: hparams.nVocab,
    contextSize: model.contextSize,
    trainedContextSize: hparams.nCtxTrain,
    chatTemplate: optionalString(file, "tokenizer.chat_template"),
    runner,
  };
}
