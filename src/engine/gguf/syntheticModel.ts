/**
 * Writes valid GGUF models of any llama/qwen2/qwen3/phi3/gemma2/gemma3 shape with seeded random weights in any
 * supported tensor type, using the project's own GGUF writer and reference quantizers.
 * Tests need models larger than the real ones in the repository; llama.cpp loads these files too,
 * so they double as conformance fixtures.
 */
import { GgufWriter } from "./writer.js";
import { GgufValueType } from "./types.js";
import { GgmlType, rowBytes } from "../ggml/types.js";
import { weightKernel } from "../quant/table.js";
import { ARCHITECTURES } from "../model/hparams.js";
import { llama3RopeFactors, type Llama3RopeScaling } from "../model/llama3Rope.js";
import { randomQ4_0Matrix, randomQ6_KMatrix } from "./randomBlocks.js";

export interface SyntheticModelSpec {
  /** written as general.architecture (an unsupported name makes a file for error tests) */
  readonly architecture?: string;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv?: number;
  readonly nFf: number;
  readonly nVocab: number;
  readonly nCtxTrain?: number;
  readonly ropeFreqBase?: number;
  readonly rmsEps?: number;
  /** type of the attention and feed-forward matrices */
  readonly weightType: GgmlType;
  /** type of token_embd (default: weightType) */
  readonly embdType?: GgmlType;
  /** type of output.weight (default: weightType); ignored when tied */
  readonly outputType?: GgmlType;
  /** omit output.weight: the head reuses the embeddings */
  readonly tiedEmbeddings?: boolean;
  /** add Q/K/V biases (default: true for qwen2) */
  readonly qkvBias?: boolean;
  /** linear RoPE scaling factor, written as rope.scaling.type = linear */
  readonly ropeScalingLinear?: number;
  /** Llama 3.1 RoPE scaling, written as `rope_freqs.weight` the way llama.cpp's converter derives it */
  readonly ropeLlama3?: Llama3RopeScaling;
  /** LongRoPE (phi3 128k): per-pair divisors f32 [nRot/2] for contexts within / beyond `originalContextLength` */
  readonly longRope?: { readonly short: Float32Array; readonly long: Float32Array; readonly originalContextLength: number; readonly attnFactor: number };
  /** rotated dimensions per head (default: all; phi3 models rotate fewer) */
  readonly ropeDimensionCount?: number;
  /** phi3: one fused `attn_qkv` instead of attn_q/k/v (default true for phi3) */
  readonly fusedQkv?: boolean;
  /** gemma: `attention.sliding_window` (and `rope.freq_base_swa`, the sliding layers' RoPE base) */
  readonly slidingWindow?: number;
  readonly ropeFreqBaseSwa?: number;
  /** gemma2: `attn_logit_softcapping` and `final_logit_softcapping` */
  readonly attnSoftCap?: number;
  readonly finalSoftCap?: number;
  readonly seed: number;
  /** standard deviation multiplier for matrices (default 1: std = 1/√nCols) */
  readonly weightScale?: number;
  /** Q4_0 and Q6_K matrices as random codes and one scale (randomBlocks.ts): fast, for huge benchmark models only */
  readonly randomBlocks?: boolean;
}

/** mulberry32: a small deterministic PRNG for tests, returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** llama.cpp's `general.file_type` (llama_ftype) of a file whose matrices are mostly this type. */
const FILE_TYPE_OF: Partial<Record<GgmlType, number>> = {
  [GgmlType.F32]: 0,
  [GgmlType.F16]: 1,
  [GgmlType.Q4_0]: 2,
  [GgmlType.Q4_1]: 3,
  [GgmlType.Q8_0]: 7,
  [GgmlType.Q5_0]: 8,
  [GgmlType.Q5_1]: 9,
  [GgmlType.Q2_K]: 10,
  [GgmlType.Q3_K]: 12,
  [GgmlType.Q4_K]: 15,
  [GgmlType.Q5_K]: 17,
  [GgmlType.Q6_K]: 18,
  [GgmlType.IQ4_NL]: 25,
  [GgmlType.IQ4_XS]: 30,
  [GgmlType.BF16]: 32,
};

/** Approximately normal values (sum of 4 uniforms), f32 [n]. */
function randomValues(random: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  const k = std * Math.sqrt(3); // sum of 4 U(-1,1) has variance 4/3
  for (let i = 0; i < n; i++) out[i] = (random() + random() + random() + random() - 2) * k;
  return out;
}

function encodeMatrix(type: GgmlType, nCols: number, nRows: number, values: Float32Array): Uint8Array {
  const nRowBytes = rowBytes(type, nCols);
  const bytes = new Uint8Array(nRowBytes * nRows);
  const kernel = weightKernel(type);
  for (let r = 0; r < nRows; r++) kernel.quantizeRow(values, r * nCols, bytes, r * nRowBytes, nCols);
  return bytes;
}

function f32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** SPM vocabulary: <unk>, <s>, </s>, 256 byte tokens, then letters, "▁word" pieces and fillers. */
export function syntheticVocab(nVocab: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces = new Set<string>();
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"";
  for (const c of letters) pieces.add(c);
  pieces.add("▁");
  for (const c of letters) pieces.add(`▁${c}`);
  const words = "the a and to was he she it they once upon time little girl boy dog cat big red ball park day play happy said saw".split(" ");
  for (const w of words) {
    for (let i = 2; i <= w.length; i++) pieces.add(w.slice(0, i));
    pieces.add(`▁${w}`);
  }
  for (const p of pieces) {
    if (tokens.length >= nVocab) break;
    tokens.push(p);
    types.push(1);
  }
  for (let i = 0; tokens.length < nVocab; i++) {
    tokens.push(`▁w${i}`);
    types.push(1);
  }
  if (tokens.length > nVocab) throw new RangeError(`nVocab ${nVocab} is too small for a synthetic vocabulary (needs ≥ 259)`);
  const scores = tokens.map((t, i) => (types[i] === 1 ? -i : 0));
  return { tokens, scores, types };
}

/** Builds the writer for a synthetic model; tensor bytes are produced lazily at write time. */
export function buildSyntheticModel(spec: SyntheticModelSpec): GgufWriter {
  const writer = new GgufWriter();
  writeHyperParameters(writer, spec);
  writeVocabulary(writer, spec.nVocab);
  const tensors = new SeededTensors(writer, spec);
  const { nEmbd, nVocab, weightType } = spec;
  tensors.matrix("token_embd.weight", nEmbd, nVocab, spec.embdType ?? weightType);
  writeRopeFactors(tensors, spec);
  for (let il = 0; il < spec.nLayer; il++) writeBlock(tensors, spec, il);
  tensors.vector("output_norm.weight", nEmbd, 1, 0.1);
  if (!spec.tiedEmbeddings && !ARCHITECTURES.get(spec.architecture ?? "llama")?.alwaysTied) tensors.matrix("output.weight", nEmbd, nVocab, spec.outputType ?? weightType);
  return writer;
}

function writeHyperParameters(writer: GgufWriter, spec: SyntheticModelSpec): void {
  const arch = spec.architecture ?? "llama";
  const key = (name: string) => `${arch}.${name}`;
  writer
    .setString("general.architecture", arch)
    // llama.cpp gives Phi-3's special tokens (<|endoftext|>, …) attributes when the name contains "phi3", so the name avoids it
    .setString("general.name", `synthetic-${arch.replace("phi3", "phi-iii")}-${spec.nEmbd}x${spec.nLayer}`)
    .setUint32("general.file_type", FILE_TYPE_OF[spec.weightType] ?? 1)
    .setUint32(key("context_length"), spec.nCtxTrain ?? 2048)
    .setUint32(key("embedding_length"), spec.nEmbd)
    .setUint32(key("block_count"), spec.nLayer)
    .setUint32(key("feed_forward_length"), spec.nFf)
    .setUint32(key("attention.head_count"), spec.nHead)
    .setUint32(key("attention.head_count_kv"), spec.nHeadKv ?? spec.nHead)
    .setUint32(key("rope.dimension_count"), spec.ropeDimensionCount ?? spec.nEmbd / spec.nHead)
    .setFloat32(key("rope.freq_base"), spec.ropeFreqBase ?? 10000)
    .setFloat32(key("attention.layer_norm_rms_epsilon"), spec.rmsEps ?? 1e-5);
  writeGemmaKeys(writer, spec, key);
  if (spec.longRope) {
    writer.setUint32(key("rope.scaling.original_context_length"), spec.longRope.originalContextLength).setFloat32(key("rope.scaling.attn_factor"), spec.longRope.attnFactor);
  }
  if (spec.ropeScalingLinear) {
    writer.setString(key("rope.scaling.type"), "linear").setFloat32(key("rope.scaling.factor"), spec.ropeScalingLinear);
  }
}

/** gemma's sliding window and soft-capping keys, when the spec sets them. */
function writeGemmaKeys(writer: GgufWriter, spec: SyntheticModelSpec, key: (name: string) => string): void {
  if (spec.slidingWindow !== undefined) writer.setUint32(key("attention.sliding_window"), spec.slidingWindow);
  if (spec.ropeFreqBaseSwa !== undefined) writer.setFloat32(key("rope.freq_base_swa"), spec.ropeFreqBaseSwa);
  if (spec.attnSoftCap !== undefined) writer.setFloat32(key("attn_logit_softcapping"), spec.attnSoftCap);
  if (spec.finalSoftCap !== undefined) writer.setFloat32(key("final_logit_softcapping"), spec.finalSoftCap);
}

/** RoPE frequency-factor tensors: Llama 3.1's `rope_freqs`, or phi3's LongRoPE `rope_factors_short/long`. */
function writeRopeFactors(tensors: SeededTensors, spec: SyntheticModelSpec): void {
  if (spec.ropeLlama3) {
    const nRot = spec.ropeDimensionCount ?? spec.nEmbd / spec.nHead;
    tensors.values("rope_freqs.weight", llama3RopeFactors(spec.ropeLlama3, nRot, spec.ropeFreqBase ?? 10000));
  }
  if (spec.longRope) {
    tensors.values("rope_factors_long.weight", spec.longRope.long);
    tensors.values("rope_factors_short.weight", spec.longRope.short);
  }
}

function writeVocabulary(writer: GgufWriter, nVocab: number): void {
  const vocab = syntheticVocab(nVocab);
  writer
    .setString("tokenizer.ggml.model", "llama")
    .setArray("tokenizer.ggml.tokens", GgufValueType.STRING, vocab.tokens)
    .setArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, vocab.scores)
    .setArray("tokenizer.ggml.token_type", GgufValueType.INT32, vocab.types)
    .setUint32("tokenizer.ggml.bos_token_id", 1)
    .setUint32("tokenizer.ggml.eos_token_id", 2)
    .setUint32("tokenizer.ggml.unknown_token_id", 0)
    .setBool("tokenizer.ggml.add_bos_token", true);
}

function writeBlock(tensors: SeededTensors, spec: SyntheticModelSpec, il: number): void {
  const { nEmbd, nFf, weightType } = spec;
  const headDim = nEmbd / spec.nHead;
  const nQ = spec.nHead * headDim;
  const nKv = (spec.nHeadKv ?? spec.nHead) * headDim;
  const b = (n: string) => `blk.${il}.${n}`;
  // unknown architectures (error-test files) get llama's layout
  const traits = ARCHITECTURES.get(spec.architecture ?? "llama") ?? ARCHITECTURES.get("llama");
  tensors.vector(b("attn_norm.weight"), nEmbd, 1, 0.1);
  if (traits?.fusedFfnUp && (spec.fusedQkv ?? true)) tensors.matrix(b("attn_qkv.weight"), nEmbd, nQ + 2 * nKv, weightType);
  else {
    tensors.matrix(b("attn_q.weight"), nEmbd, nQ, weightType);
    tensors.matrix(b("attn_k.weight"), nEmbd, nKv, weightType);
    tensors.matrix(b("attn_v.weight"), nEmbd, nKv, weightType);
  }
  if (spec.qkvBias ?? (spec.architecture ?? "llama") === "qwen2") {
    tensors.vector(b("attn_q.bias"), nQ, 0, 0.1);
    tensors.vector(b("attn_k.bias"), nKv, 0, 0.1);
    tensors.vector(b("attn_v.bias"), nKv, 0, 0.1);
  }
  if (traits?.qkNorm) {
    tensors.vector(b("attn_q_norm.weight"), headDim, 1, 0.1);
    tensors.vector(b("attn_k_norm.weight"), headDim, 1, 0.1);
  }
  tensors.matrix(b("attn_output.weight"), nQ, nEmbd, weightType);
  if (traits?.postNorms) tensors.vector(b("post_attention_norm.weight"), nEmbd, 1, 0.1);
  tensors.vector(b("ffn_norm.weight"), nEmbd, 1, 0.1);
  if (traits?.fusedFfnUp) tensors.matrix(b("ffn_up.weight"), nEmbd, 2 * nFf, weightType);
  else {
    tensors.matrix(b("ffn_gate.weight"), nEmbd, nFf, weightType);
    tensors.matrix(b("ffn_up.weight"), nEmbd, nFf, weightType);
  }
  if (traits?.postNorms) tensors.vector(b("post_ffw_norm.weight"), nEmbd, 1, 0.1);
  tensors.matrix(b("ffn_down.weight"), nFf, nEmbd, weightType);
}

/** Adds tensors of seeded random values; every tensor has its own seed, so lazy production in any order is deterministic. */
class SeededTensors {
  private tensorIndex = 0;

  constructor(
    private readonly writer: GgufWriter,
    private readonly spec: SyntheticModelSpec,
  ) {}

  matrix(name: string, nCols: number, nRows: number, type: GgmlType): void {
    const seed = this.nextSeed();
    const std = (this.spec.weightScale ?? 1) / Math.sqrt(nCols);
    if (this.spec.randomBlocks && type === GgmlType.Q4_0) return void this.writer.addTensor(name, [nCols, nRows], type, () => randomQ4_0Matrix(nCols, nRows, std, seed));
    if (this.spec.randomBlocks && type === GgmlType.Q6_K) return void this.writer.addTensor(name, [nCols, nRows], type, () => randomQ6_KMatrix(nCols, nRows, std, seed));
    this.writer.addTensor(name, [nCols, nRows], type, () => encodeMatrix(type, nCols, nRows, randomValues(seededRandom(seed), nCols * nRows, std)));
  }

  vector(name: string, n: number, center: number, spread: number): void {
    const seed = this.nextSeed();
    this.writer.addTensor(name, [n], GgmlType.F32, () => {
      const v = randomValues(seededRandom(seed), n, spread);
      for (let i = 0; i < n; i++) v[i] += center;
      return f32Bytes(v);
    });
  }

  /** An f32 vector of given values. */
  values(name: string, values: Float32Array): void {
    this.writer.addTensor(name, [values.length], GgmlType.F32, () => f32Bytes(values));
  }

  private nextSeed(): number {
    return this.spec.seed * 1000 + this.tensorIndex++;
  }
}

/** Writes a synthetic model to `path` (one tensor in memory at a time). */
export async function writeSyntheticModel(path: string, spec: SyntheticModelSpec): Promise<void> {
  await buildSyntheticModel(spec).writeFile(path);
}
