import { openGguf, type MappedGguf } from "../gguf/reader.js";
import { rowBytes } from "../ggml/types.js";
import { dequantizeRows, matmul, MatmulScratch } from "../quant/matmul.js";
import { loadTokenizer, type Tokenizer } from "../tokenizer/index.js";
import { OptionError } from "../errors.js";
import { readHparams, type ModelHparams } from "./hparams.js";
import { bindHead, bindLayer, type HeadWeights } from "./weights.js";
import { rmsNorm } from "./ops.js";
import { LocalLayerRunner, ResidentLayerSource, type LayerSource } from "./localLayerRunner.js";
import type { KvType } from "./kvCache.js";

export interface ModelOpenOptions {
  /** KV cache element type (llama.cpp's default is f16) */
  readonly kvType?: KvType;
  /** most positions per sequence; default: the model's training context */
  readonly contextSize?: number;
}

/**
 * A loaded model as the root sees it: the mapped file, hyper-parameters, tokenizer,
 * embeddings and output head. Transformer blocks run behind a LayerRunner.
 */
export class Model implements Disposable {
  readonly contextSize: number;
  readonly kvType: KvType;
  private readonly normed: Float32Array;
  private readonly matmulScratch = new MatmulScratch();
  private disposed = false;

  private constructor(
    readonly path: string,
    readonly file: MappedGguf,
    readonly hparams: ModelHparams,
    readonly tokenizer: Tokenizer,
    readonly head: HeadWeights,
    options: ModelOpenOptions,
  ) {
    this.kvType = options.kvType ?? "f16";
    this.contextSize = options.contextSize ?? hparams.nCtxTrain;
    if (!Number.isInteger(this.contextSize) || this.contextSize <= 0) {
      throw new OptionError("BAD_CONTEXT_SIZE", `context size ${this.contextSize} must be a positive integer`);
    }
    this.normed = new Float32Array(hparams.nEmbd);
  }

  /** Maps the file and checks everything the forward pass will need. */
  static open(path: string, options: ModelOpenOptions = {}): Model {
    const file = openGguf(path);
    try {
      const hparams = readHparams(file);
      const tokenizer = loadTokenizer(file);
      const head = bindHead(file, hparams);
      // Check every block's tensors now, so a broken file fails at start, not mid-generation.
      for (let il = 0; il < hparams.nLayer; il++) bindLayer(file, hparams, il);
      return new Model(path, file, hparams, tokenizer, head, options);
    } catch (error) {
      file.dispose();
      throw error;
    }
  }

  /** A runner that executes every block in this process from `source` (default: all resident). */
  createLocalRunner(source: LayerSource = new ResidentLayerSource(this.file, this.hparams)): LocalLayerRunner {
    return new LocalLayerRunner(this.hparams, source, {
      kvType: this.kvType,
      contextSize: this.contextSize,
      ropeFreqs: this.head.ropeFreqs,
    });
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
    rmsNorm(this.normed, hidden, this.head.outputNorm, nEmbd, 1, rmsEps);
    matmul(out, this.head.output.bytes, this.head.output.type, this.normed, nEmbd, nVocab, 1, this.matmulScratch);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.file.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
