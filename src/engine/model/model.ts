import { openGguf, tensorData } from "../gguf/reader.js";
import { openGgufHeader, readFully, type GgufHeaderFile } from "../gguf/header.js";
import { FileWatch } from "../gguf/modelFile.js";
import type { GgufFile, GgufTensorInfo } from "../gguf/types.js";
import { rowBytes } from "../ggml/types.js";
import { dequantizeRows, MatmulScratch } from "../quant/matmul.js";
import type { ComputeBackend } from "../backend/computeBackend.js";
import { defaultBackend } from "../backend/selectBackend.js";
import type { Tokenizer } from "../tokenizer/index.js";
import { ModelFormatError, OptionError } from "../errors.js";
import { MAX_CONTEXT_SIZE, type ModelHparams } from "./hparams.js";
import { bindHead, bindVector, matmulTypeOf, packMatrix, ropeFactorsTensor, type HeadTensors, type HeadWeights, type LayerTensors, type TensorBytes, type WeightMatrix } from "./weights.js";
import { LocalLayerRunner } from "./localLayerRunner.js";
import { ResidentLayerSource, type LayerSource } from "./layerSource.js";
import type { KvType } from "./kvCache.js";
import { checkModel } from "./modelChecks.js";
import { checkTensorsFinite, type TensorRangeReader } from "./tensorScan.js";
import { scaleInPlace, softCapInPlace } from "./ops.js";

/**
 * How tensor data is reached: `read` (the default) reads tensors into owned buffers — any file
 * size, and nothing the process computes with can vanish if the file is truncated underneath
 * (a read of a shrunk file fails with an error; a touched page of a shrunk mapping is SIGBUS).
 * `mmap` maps the whole file (zero-copy, files under 2 GiB): for tools and comparisons only —
 * the file is checked before each use, but a truncation between the check and the touch still
 * kills the process.
 */
export type FileAccess = "mmap" | "read";

export interface ModelOpenOptions {
  /** default: read */
  readonly access?: FileAccess;
  /** KV cache element type (llama.cpp's default is f16) */
  readonly kvType?: KvType;
  /** most positions per sequence; default: the model's training context, capped at `defaultContextCap` */
  readonly contextSize?: number;
  /** cap on the default context size (llama.cpp uses 4096); default: none */
  readonly defaultContextCap?: number;
  /** the kernels the model and its runners compute with (default: native when the addon loads) */
  readonly backend?: ComputeBackend;
  /** read every weight at open and refuse NaN or Inf values, naming the tensor (llama.cpp's --check-tensors) */
  readonly checkTensors?: boolean;
  /** flash attention with llama.cpp's numerics (its `-fa on`); default: the classic path */
  readonly flashAttention?: boolean;
  /**
   * Resident weights packed for the backend's matmul at load (ComputeBackend.pack, llama.cpp's
   * repack; its `--no-repack` is false here): faster decoding, the same bits, a packed copy in
   * memory instead of the file's pages. Default true.
   */
  readonly repack?: boolean;
}

/**
 * A loaded model as the root sees it: the file (watched for changes), hyper-parameters, tokenizer,
 * embeddings and output head. Transformer blocks run behind a LayerRunner.
 */
export class Model implements Disposable {
  readonly contextSize: number;
  readonly kvType: KvType;
  readonly backend: ComputeBackend;
  /**
   * Flash attention's split-KV chunk count (the backend's threads, as ggml splits per thread),
   * passed to every runner, local or remote; undefined: classic attention.
   */
  readonly flashKvChunks: number | undefined;
  /** resident weights are packed for the backend's matmul (ModelOpenOptions.repack) */
  readonly repack: boolean;
  private readonly normed: Float32Array;
  private readonly matmulScratch = new MatmulScratch();
  /** logitsMany's buffers, grown as needed: the hidden rows and their norms f32 [n, nEmbd], the logits f32 [n, nVocab] */
  private batchRows = new Float32Array(0);
  private batchNormed = new Float32Array(0);
  private batchLogits = new Float32Array(0);
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
    /** the file as opened: checked before each use (a file changed underneath is an error, not garbage or SIGBUS) */
    readonly watch: FileWatch,
    options: ModelOpenOptions,
  ) {
    this.kvType = options.kvType ?? "f16";
    this.backend = options.backend ?? defaultBackend();
    this.flashKvChunks = options.flashAttention ? this.backend.threads : undefined;
    this.repack = options.repack ?? true;
    this.contextSize = options.contextSize ?? Math.min(hparams.nCtxTrain, options.defaultContextCap ?? Infinity);
    if (!Number.isInteger(this.contextSize) || this.contextSize <= 0 || this.contextSize > MAX_CONTEXT_SIZE) {
      throw new OptionError("BAD_CONTEXT_SIZE", `context size ${this.contextSize} must be an integer in [1, ${MAX_CONTEXT_SIZE}]`);
    }
    this.normed = new Float32Array(hparams.nEmbd);
    this.ropeFreqs = headInfo.ropeFreqs && bindVector(headInfo.ropeFreqs, tensorBytes);
  }

  /** f32 [nRot/2] RoPE frequency divisors for a context of `contextSize` positions per sequence (rope_freqs, or LongRoPE's long/short factors), if any. */
  ropeFactors(contextSize: number): Float32Array | undefined {
    const info = ropeFactorsTensor(this.headInfo, this.hparams.rope.nCtxOrig, contextSize);
    if (info === this.headInfo.ropeFreqs) return this.ropeFreqs;
    return info && bindVector(info, this.tensorBytes);
  }

  /**
   * The embeddings, final norm and output head: views of the mapping, or read from the file on
   * first use (a worker, which runs only blocks, never reads them).
   */
  get head(): HeadWeights {
    if (!this.boundHead) {
      const head = bindHead(this.headInfo, this.tensorBytes);
      // a tied output is the embeddings, which get_rows reads as stored
      const packOutput = this.repack && head.output !== head.tokenEmbd;
      this.boundHead = packOutput ? { ...head, output: packMatrix(head.output, this.backend) } : head;
    }
    return this.boundHead;
  }

  /** Opens the file (a regular file only, never blocking) and checks everything the forward pass will need. */
  static open(path: string, options: ModelOpenOptions = {}): Model {
    const access = options.access ?? "read";
    const file = access === "mmap" ? openGguf(path) : openGgufHeader(path);
    let watch: FileWatch | undefined;
    try {
      watch = access === "mmap" ? FileWatch.open(path, file.stamp) : FileWatch.onDescriptor(path, (file as GgufHeaderFile).fd, file.stamp);
      const reader = rangeReader(file, access, watch);
      const tensorBytes: TensorBytes = (info) => reader(info, 0, info.nBytes);
      // Check everything now, so a broken file fails at start, not mid-generation.
      const { hparams, tokenizer, head, layers } = checkModel(file);
      if (options.checkTensors) checkTensorsFinite(file.tensors, file.tensorsByName, reader);
      return new Model(path, file, access, tensorBytes, hparams, tokenizer, head, layers, watch, options);
    } catch (error) {
      watch?.close();
      file[Symbol.dispose]();
      throw error;
    }
  }

  /** A runner that executes every block in this process from `source` (default: all resident); tests and tools — programs use openLayerHost. */
  createLocalRunner(source: LayerSource = this.residentLayers()): LocalLayerRunner {
    return new LocalLayerRunner(this.hparams, source, {
      kvType: this.kvType,
      contextSize: this.contextSize,
      ropeFreqs: this.ropeFactors(this.contextSize),
      backend: this.backend,
      flashKvChunks: this.flashKvChunks,
    });
  }

  /**
   * Blocks `layers` (default: all) resident and loaded now, as llama.cpp loads a model, so that
   * the first prompt neither waits for the disk nor takes page faults: with `read` access each
   * block's tensors are read into owned buffers; with `mmap` every page is touched once (llama.cpp
   * maps with MAP_POPULATE). Streaming under a memory budget is a separate LayerSource.
   */
  residentLayers(layers: readonly number[] = this.layers.map((_, il) => il), onProgress?: (layersDone: number, layersTotal: number) => void): ResidentLayerSource {
    const source = new ResidentLayerSource(this.layers, this.tensorBytes, this.access, () => this.watch.check(), this.repack ? this.backend : undefined);
    layers.forEach((il, done) => {
      onProgress?.(done, layers.length);
      const weights = source.bind(il);
      for (const w of [weights.wq, weights.wk, weights.wv, weights.wo, weights.ffnGate, weights.ffnUp, weights.ffnDown]) this.touchIfMapped(w);
    });
    onProgress?.(layers.length, layers.length);
    return source;
  }

  /** Brings the output head into memory now (its pages touched, or read), so the first token does not wait for it. */
  touchHead(): void {
    this.touchIfMapped(this.head.output);
  }

  /**
   * Faults in the pages behind a matrix that is still a view of the mapping; packed and resident
   * copies (repack) were written from the file's pages and are in memory already.
   */
  private touchIfMapped(w: WeightMatrix): void {
    if (this.access === "mmap" && w.bytes.buffer === this.file.bytes.buffer) this.pagesTouched ^= touchPages(w.bytes);
  }

  /**
   * Looks up token embeddings (ggml_get_rows).
   * @param out f32 [tokens.length, nEmbd]
   */
  embed(tokens: readonly number[], out: Float32Array): void {
    this.watch.check();
    const { nEmbd, nVocab } = this.hparams;
    const embd = this.head.tokenEmbd;
    const nRowBytes = rowBytes(embd.type, nEmbd);
    tokens.forEach((token, t) => {
      if (!Number.isInteger(token) || token < 0 || token >= nVocab) {
        throw new OptionError("BAD_TOKEN", `token id ${token} is outside the vocabulary [0, ${nVocab})`);
      }
      dequantizeRows(embd.type, embd.bytes, token * nRowBytes, out.subarray(t * nEmbd, (t + 1) * nEmbd), nEmbd);
    });
    // gemma: ggml_scale(embeddings, √nEmbd)
    const { embedScale } = this.hparams.variant;
    if (embedScale !== undefined) scaleInPlace(out, embedScale, tokens.length * nEmbd);
  }

  /**
   * Final norm and output head for one hidden state.
   * @param hidden f32 [nEmbd]
   * @param out f32 [nVocab]
   */
  logits(hidden: Float32Array, out: Float32Array): void {
    this.watch.check();
    this.runHead(hidden, 1, this.normed, out);
    checkFinite(out, this.hparams.nVocab);
  }

  /**
   * Final norm and output head for several hidden states at once: one read of the head serves
   * them all (each row's arithmetic is the matmul's for that batch size).
   * @param hidden f32 [nEmbd] each
   * @param outs f32 [nVocab] each, one per hidden state
   */
  logitsMany(hidden: readonly Float32Array[], outs: readonly Float32Array[]): void {
    const n = hidden.length;
    if (n <= 1) {
      if (n === 1) this.logits(hidden[0], outs[0]);
      return;
    }
    this.watch.check();
    const { nEmbd, nVocab } = this.hparams;
    const rows = this.headScratch("batchRows", n * nEmbd);
    hidden.forEach((h, i) => rows.set(h.subarray(0, nEmbd), i * nEmbd));
    const all = this.headScratch("batchLogits", n * nVocab);
    this.runHead(rows, n, this.headScratch("batchNormed", n * nEmbd), all);
    outs.forEach((out, i) => {
      out.set(all.subarray(i * nVocab, (i + 1) * nVocab));
      checkFinite(out, nVocab);
    });
  }

  /** Final norm, output head and (where the architecture has one) soft cap of `n` rows: x f32 [n, nEmbd] → out f32 [n, nVocab]; `normed` is scratch [n, nEmbd]. */
  private runHead(x: Float32Array, n: number, normed: Float32Array, out: Float32Array): void {
    const { nEmbd, nVocab, rmsEps, variant } = this.hparams;
    this.backend.rmsNorm(normed, x, this.head.outputNorm, nEmbd, n, rmsEps);
    const { output } = this.head;
    this.backend.matmul(out, output.bytes, matmulTypeOf(output), normed, nEmbd, nVocab, n, this.matmulScratch);
    if (variant.finalSoftCap !== undefined) softCapInPlace(out, variant.finalSoftCap, n * nVocab);
  }

  /** The first `length` floats of one of logitsMany's buffers, grown (kept between calls) as needed. */
  private headScratch(name: "batchRows" | "batchNormed" | "batchLogits", length: number): Float32Array {
    if (this[name].length < length) this[name] = new Float32Array(length);
    return this[name].subarray(0, length);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.watch.close();
    this.file[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** How tensor bytes are read: views of the mapping, or reads through the descriptor; the file checked before (and, for reads, after) each. */
function rangeReader(file: GgufFile, access: FileAccess, watch: FileWatch): TensorRangeReader {
  if (access === "mmap") {
    return (info, byteOffset, nBytes) => {
      watch.check();
      return tensorData(file, info).subarray(byteOffset, byteOffset + nBytes);
    };
  }
  const header = file as GgufHeaderFile;
  return (info: GgufTensorInfo, byteOffset: number, nBytes: number) => {
    const out = new Uint8Array(nBytes);
    try {
      readFully(header.fd, out, 0, nBytes, info.fileOffset + byteOffset, header.path);
    } catch (error) {
      watch.check(); // a read that failed because the file shrank names the change
      throw error;
    }
    watch.check(); // and a read that raced an overwrite is not used
    return out;
  };
}

/** Non-finite logits only come from non-finite weights (or activations they produced): an error, never a sampled token. */
function checkFinite(logits: Float32Array, nVocab: number): void {
  for (let i = 0; i < nVocab; i++) {
    const v = logits[i];
    if (v - v !== 0) {
      throw new ModelFormatError("NON_FINITE_LOGITS", `the model computed a ${Number.isNaN(v) ? "NaN" : "infinite"} logit (token ${i}): its weights hold NaN or Inf values (--check-tensors names the tensor)`);
    }
  }
}

/** Reads one byte per 4 KiB page (faults a mapping in); returns their xor. */
function touchPages(bytes: Uint8Array): number {
  let x = 0;
  for (let i = 0; i < bytes.length; i += 4096) x ^= bytes[i];
  return x;
}
