/**
 * Quantizing a GGUF model file to another file type, as llama.cpp's `llama-quantize` does:
 * same metadata (with `general.quantization_version` = 2 and `general.file_type` set to the
 * llama.cpp file type, moved to the end as llama.cpp's gguf_set_val does), same alignment,
 * tensors in llama-quantize's order (by layer, then by name; see llamaTensorOrder), each weight
 * matrix converted to the type quantizeRules.ts picks. Tensors of other types are dequantized to
 * f32 first. One tensor is held in memory at a time (read from
 * the input when the writer asks for it), so models larger than RAM can be converted.
 *
 * The output is written to `OUT.partial` and renamed to OUT at the end; nothing is left on error.
 */
import fs from "node:fs";
import { LayerstreamError, OptionError } from "../errors.js";
import { ggmlTypeName, GgmlType, rowBytes } from "../ggml/types.js";
import { WEIGHT_KERNELS } from "../quant/table.js";
import { quantizeIq4NlRowSearch } from "../quant/iq4_nl-search.js";
import { openGgufHeader, readTensorSync, type GgufHeaderFile } from "./header.js";
import { allowsQuantization, QUANT_TYPE_NAMES, quantFileType, QuantTypePicker, tensorCategory, type QuantFileType, type QuantModelInfo } from "./quantizeRules.js";
import type { GgufTensorInfo } from "./types.js";
import { GgufWriter } from "./writer.js";

export { QUANT_TYPE_NAMES, quantFileType, type QuantFileType } from "./quantizeRules.js";

/** llama.cpp's GGML_QNT_VERSION. */
export const GGML_QUANTIZATION_VERSION = 2;

export interface QuantizeProgress {
  /** 0-based position in the file */
  readonly index: number;
  readonly nTensors: number;
  readonly name: string;
  readonly from: GgmlType;
  readonly to: GgmlType;
  readonly inBytes: number;
  readonly outBytes: number;
}

export interface QuantizeModelOptions {
  /** keep `output.weight` as it is (llama-quantize --leave-output-tensor) */
  readonly leaveOutputTensor?: boolean;
  /** the default type for every quantizable tensor, no per-tensor mix (llama-quantize --pure) */
  readonly pure?: boolean;
  /** replace an existing output file */
  readonly force?: boolean;
  /** called after each tensor is written */
  readonly onTensor?: (progress: QuantizeProgress) => void;
}

export interface QuantizeModelResult {
  readonly fileType: QuantFileType;
  readonly nTensors: number;
  /** tensors whose row length made llama.cpp's rules fall back to another type */
  readonly nFallback: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

/** Plan of one output tensor. */
export interface QuantizePlanEntry {
  readonly info: GgufTensorInfo;
  readonly to: GgmlType;
}

/** Converts `inPath` to `outPath` with tensors of file type `typeName` (e.g. "Q4_0", "Q4_K_M"). */
export async function quantizeModel(inPath: string, outPath: string, typeName: string, options: QuantizeModelOptions = {}): Promise<QuantizeModelResult> {
  const fileType = quantFileType(typeName);
  if (!fileType) throw new OptionError("BAD_OPTION", `unknown quantization type "${typeName}" (supported: ${QUANT_TYPE_NAMES.join(", ")})`);
  checkPaths(inPath, outPath, options.force === true);
  using file = openGgufHeader(inPath);
  const { plan, nFallback } = planQuantization(file, fileType, options);
  const writer = new GgufWriter({ version: file.version });
  for (const entry of file.metadata.values()) writer.setEntry(entry);
  writer.delete("general.quantization_version").setUint32("general.quantization_version", GGML_QUANTIZATION_VERSION);
  writer.delete("general.file_type").setUint32("general.file_type", fileType.ftype);
  for (const key of ["split.no", "split.count", "split.tensors.count"]) writer.delete(key);
  // the writer reports a producer's error as an IO error: keep the original (an AbortError stays one)
  let producerError: unknown;
  plan.forEach(({ info, to }, index) => {
    writer.addTensor(info.name, info.dims, to, () => {
      try {
        const out = convertTensor(readTensorSync(file, info), info, to);
        options.onTensor?.({ index, nTensors: plan.length, name: info.name, from: info.type, to, inBytes: info.nBytes, outBytes: out.length });
        return out;
      } catch (error) {
        producerError = error;
        throw error;
      }
    });
  });
  const partial = `${outPath}.partial`;
  try {
    await writer.writeFile(partial);
    fs.renameSync(partial, outPath);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw producerError ?? error;
  }
  return { fileType, nTensors: plan.length, nFallback, inBytes: file.fileBytes, outBytes: fs.statSync(outPath).size };
}

function checkPaths(inPath: string, outPath: string, force: boolean): void {
  if (!fs.existsSync(inPath)) throw new OptionError("FILE_NOT_FOUND", `${inPath}: no such file`);
  const same = fs.existsSync(outPath) && fs.realpathSync(outPath) === fs.realpathSync(inPath);
  if (same) throw new OptionError("BAD_OPTION", `the output ${outPath} is the input file; choose another path`);
  if (fs.existsSync(outPath) && !force) throw new OptionError("BAD_OPTION", `${outPath} already exists (use --force to replace it)`);
}

/** The type of every tensor in file order, by llama.cpp's rules. */
export function planQuantization(
  file: GgufHeaderFile | Pick<GgufHeaderFile, "metadata" | "tensors">,
  fileType: QuantFileType,
  options: Pick<QuantizeModelOptions, "leaveOutputTensor" | "pure"> = {},
): { plan: QuantizePlanEntry[]; nFallback: number } {
  const picker = new QuantTypePicker(fileType, modelInfo(file), options.pure === true);
  const plan = [...file.tensors].sort(llamaTensorOrder).map((info) => {
    const allowed = allowsQuantization(info.name, nDims(info.dims), options.leaveOutputTensor === true);
    const to = allowed ? picker.pick(info.name, info.dims) : info.type;
    if (to !== info.type && !WEIGHT_KERNELS.has(info.type)) {
      throw new LayerstreamError("UNSUPPORTED_TENSOR_TYPE", `tensor "${info.name}" is ${ggmlTypeName(info.type)}, which layerstream cannot decode`);
    }
    return { info, to };
  });
  return { plan, nFallback: picker.nFallback };
}

/**
 * The order llama-quantize writes tensors in (its loader's `weights_map`): by layer number
 * (`blk.N.`; other tensors first), then by name, bytewise.
 */
export function llamaTensorOrder(a: { name: string }, b: { name: string }): number {
  const layer = (name: string) => /^blk\.(-?\d+)\./.exec(name)?.[1];
  const la = Number(layer(a.name) ?? -1);
  const lb = Number(layer(b.name) ?? -1);
  if (la !== lb) return la - lb;
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

/** ggml_n_dims: trailing dimensions of 1 do not count. */
function nDims(dims: readonly number[]): number {
  let n = dims.length;
  while (n > 1 && dims[n - 1] === 1) n--;
  return n;
}

function modelInfo(file: Pick<GgufHeaderFile, "metadata" | "tensors">): QuantModelInfo {
  const arch = String(file.metadata.get("general.architecture")?.value ?? "");
  const num = (key: string): number => {
    const value = file.metadata.get(`${arch}.${key}`)?.value;
    if (typeof value === "object") return Number((value as { items: readonly unknown[] }).items[0] ?? 0);
    return value === undefined ? 0 : Number(value);
  };
  const nHead = num("attention.head_count");
  const nHeadKv = file.metadata.has(`${arch}.attention.head_count_kv`) ? num("attention.head_count_kv") : nHead;
  const count = (category: string) => file.tensors.filter((t) => tensorCategory(t.name) === category).length;
  return {
    arch,
    nGqa: nHeadKv === 0 ? 0 : Math.trunc(nHead / nHeadKv),
    nExpert: num("expert_count"),
    tiedEmbeddings: !file.tensors.some((t) => t.name === "output.weight"),
    nAttentionV: count("attn_v"),
    nFfnDown: count("ffn_down"),
  };
}

/** The tensor's bytes re-encoded as `to`, row by row through f32. */
export function convertTensor(bytes: Uint8Array, info: Pick<GgufTensorInfo, "name" | "dims" | "type" | "nElements">, to: GgmlType): Uint8Array {
  if (to === info.type) return bytes;
  const from = WEIGHT_KERNELS.get(info.type);
  const into = WEIGHT_KERNELS.get(to);
  if (!from || !into) throw new LayerstreamError("UNSUPPORTED_TENSOR_TYPE", `cannot convert tensor "${info.name}" from ${ggmlTypeName(info.type)} to ${ggmlTypeName(to)}`);
  const nCols = info.dims[0];
  const nRows = nCols === 0 ? 0 : info.nElements / nCols;
  const inRow = rowBytes(info.type, nCols);
  const outRow = rowBytes(to, nCols);
  const out = new Uint8Array(outRow * nRows);
  const row = new Float32Array(nCols);
  // llama-quantize quantizes through ggml_quantize_chunk: the reference quantizers (IQ4_XS's searches its scales), except IQ4_NL's scale search
  const quantizeRow = to === GgmlType.IQ4_NL ? quantizeIq4NlRowSearch : into.quantizeRow.bind(into);
  for (let r = 0; r < nRows; r++) {
    from.dequantizeRow(bytes, r * inRow, row, 0, nCols);
    quantizeRow(row, 0, out, r * outRow, nCols);
  }
  return out;
}

