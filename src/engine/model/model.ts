import { constants as bufferConstants } from "node:buffer";
import fs from "node:fs";
import { mmapAvailable, openGguf, tensorData } from "../gguf/reader.js";
import { openGgufHeader, readTensorSync } from "../gguf/header.js";
import type { GgufFile } from "../gguf/types.js";
import { rowBytes } from "../ggml/types.js";
import { dequantizeRows, MatmulScratch } from "../quant/matmul.js";
import type { ComputeBackend } from "../backend/computeBackend.js";
import { defaultBackend } from "../backend/selectBackend.js";
import { loadTokenizer, type Tokenizer } from "../tokenizer/index.js";
import { OptionError } from "../errors.js";
import { readHparams, type ModelHparams } from "./hparams.js";
import { bindHead, bindVector, headTensors, layerTensors, type HeadTensors, type HeadWeights, type LayerTensors, type TensorBytes } from "./weights.js";
import { LocalLayerRunner } from "./localLayerRunner.js";
import { ResidentLayerSource, type LayerSource } from "./layerSource.js";
import type { KvType } from "./kvCache.js";

/**
 * How tensor data is reached: `mmap` maps the whole file (zero-copy; files under 2 GiB, the
 * most mmap-io maps), `read` reads tensors into owned buffers (any size; what layer streaming uses).
 */
export type FileAccess = "mmap" | "read";

export interface ModelOpenOptions {
  /** default: mmap when the file fits one mapping, else read */
  readonly access?: FileAccess;
  /** KV cache element type (llama.cpp's default is f16) */
  readonly kvType?: KvType;
  /** most positions per sequence; default: the model's training context, capped at `defaultContextCap` */
  readonly contextSize?: number;
  /** cap on the default context size (llama.cpp uses 4096); default: none */
  readonly defaultContextCap?: number;
  /** the kernels the model and its runners compute with (default: native when the addon loads) */
  readonly backend?: ComputeBackend;
}

/**
 * A loaded model as the root sees it: the mapped file, hyper-parameters, tokenizer,
 * embeddings and output head. Transformer blocks run behind a LayerRunner.
 */
export class Model implements Disposable {
  readonly contextSize: number;
  readonly kvType: KvType;
  readonly backend: ComputeBackend;
  private readonly normed: Float32Array;
  private readonly matmulScratch = new MatmulScratch();
  private disposed = false;
  /** xor of one byte per page touched by residentLayers (only there to keep the reads) */
  private pagesTouched = 0;
  private boundHead?: HeadWeights;
  /** f32 [nRot/2] RoPE frequency divisors (`rope_freqs.weight`), if the model has them */
  readonly ropeFreqs?: Float32Array;

  private constructor(
    readonly path: string,
    readonly file: GgufFile & Disposable,
    readonly access: FileAccess,
    /** tensor bytes: views (mmap) or fresh copies (read) */
    readonly tensorBytes: TensorBytes,
    readonly hparams: ModelHparams,
    readonly tokenizer: Tokenizer,
    /** the embeddings, final norm and output head, checked at open and read on first use */
    readonly headInfo: HeadTensors,
    /** every block's tensors, checked at open */
    readonly layers: readonly LayerTensors[],
    options: ModelOpenOptions,
  ) {
    this.kvType = options.kvType ?? "f16";
    this.backend = options.backend ?? defaultBackend();
    this.contextSize = options.contextSize ?? Math.min(hparams.nCtxTrain, options.defaultContextCap ?? Infinity);
    if (!Number.isInteger(this.contextSize) || this.contextSize <= 0) {
      throw new OptionError("BAD_CONTEXT_SIZE", `context size ${this.contextSize} must be a positive integer`);
    }
    this.normed = new Float32Array(hparams.nEmbd);
    this.ropeFreqs = headInfo.ropeFreqs && bindVector(headInfo.ropeFreqs, tensorBytes);
  }

  /**
   * The embeddings, final norm and output head: views of the mapping, or read from the file on
   * first use (a worker, which runs only blocks, never reads them).
   */
  get head(): HeadWeights {
    this.boundHead ??= bindHead(this.headInfo, this.tensorBytes);
    return this.boundHead;
  }

  /** Maps the file and checks everything the forward pass will need. */
  static open(path: string, options: ModelOpenOptions = {}): Model {
    const access = options.access ?? (mmapAvailable() && fileSize(path) <= MAX_MAPPED_BYTES ? "mmap" : "read");
    const file = access === "mmap" ? openGguf(path) : openGgufHeader(path);
    try {
      const tensorBytes: TensorBytes =
        access === "mmap" ? (info) => tensorData(file, info) : (info) => readTensorSync(file as ReturnType<typeof openGgufHeader>, info);
      const hparams = readHparams(file);
      const tokenizer = loadTokenizer(file);
      const head = headTensors(file, hparams);
      // Check every block's tensors now, so a broken file fails at start, not mid-generation.
      const layers = Array.from({ length: hparams.nLayer }, (_, il) => layerTensors(file, hparams, il));
      return new Model(path, file, access, tensorBytes, hparams, tokenizer, head, layers, options);
    } catch (error) {
      file[Symbol.dispose]();
      throw error;
    }
  }

  /** A runner that executes every block in this process from `source` (default: all resident); tests and tools — programs use openLayerHost. */
  createLocalRunner(source: LayerSource = this.residentLayers()): LocalLayerRunner {
    return new LocalLayerRunner(this.hparams, source, {
      kvType: this.kvType,
      contextSize: this.contextSize,
      ropeFreqs: this.ropeFreqs,
      backend: this.backend,
    });
  }

  /**
   * Blocks `layers` (default: all) resident and loaded now, as llama.cpp loads a model, so that
   * the first prompt neither waits for the disk nor takes page faults: with `read` access each
   * block's tensors are read into owned buffers; with `mmap` every page is touched once (llama.cpp
   * maps with MAP_POPULATE). Streaming under a memory budget is a separate LayerSource.
   */
  residentLayers(layers: readonly number[] = this.layers.map((_, il) => il), onProgress?: (layersDone: number, layersTotal: number) => void): ResidentLayerSource {
    const source = new ResidentLayerSource(this.layers, this.tensorBytes, this.access);
    layers.forEach((il, done) => {
      onProgress?.(done, layers.length);
      const weights = source.bind(il);
      if (this.access === "mmap") {
        for (const w of [weights.wq, weights.wk, weights.wv, weights.wo, weights.ffnGate, weights.ffnUp, weights.ffnDown]) this.pagesTouched ^= touchPages(w.bytes);
      }
    });
    onProgress?.(layers.length, layers.length);
    return source;
  }

  /** Brings the output head into memory now (its pages touched, or read), so the first token does not wait for it. */
  touchHead(): void {
    const { output } = this.head;
    if (this.access === "mmap") this.pagesTouched ^= touchPages(output.bytes);
  }

  /**
   * Looks up token embeddings (ggml_get_rows).
   * @param out f32 [tokens.length, nEmbd]
   */
  embed(tokens: readonly number[], out: Float32Array): void {
    const { nEmbd, nVocab } = this.hparams;
    const embd = this.head.tokenEmbd;
    const nRowBytes = rowBytes(embd.type, nEmbd);
    tokens.forEach((token, t) => {
      if (!Number.isInteger(token) || token < 0 || token >= nVocab) {
        throw new OptionError("BAD_TOKEN", `token id ${token} is outside the vocabulary [0, ${nVocab})`);
      }
      dequantizeRows(embd.type, embd.bytes, token * nRowBytes, out.subarray(t * nEmbd, (t + 1) * nEmbd), nEmbd);
    });
  }

  /**
   * Final norm and output head for one hidden state.
   * @param hidden f32 [nEmbd]
   * @param out f32 [nVocab]
   */
  logits(hidden: Float32Array, out: Float32Array): void {
    const { nEmbd, nVocab, rmsEps } = this.hparams;
    this.backend.rmsNorm(this.normed, hidden, this.head.outputNorm, nEmbd, 1, rmsEps);
    this.backend.matmul(out, this.head.output.bytes, this.head.output.type, this.normed, nEmbd, nVocab, 1, this.matmulScratch);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.file[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Largest file we memory-map: mmap-io fails (ENOMEM) on mappings of 2 GiB and more. */
const MAX_MAPPED_BYTES = Math.min(bufferConstants.MAX_LENGTH, 2 ** 31 - 1);

/** Reads one byte per 4 KiB page (faults a mapping in); returns their xor. */
function touchPages(bytes: Uint8Array): number {
  let x = 0;
  for (let i = 0; i < bytes.length; i += 4096) x ^= bytes[i];
  return x;
}

/** Size of the file at `path`, or 0 when it cannot be read (opening reports the real error). */
function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}
