/**
 * Hostile model files for the hardening tests, each a small valid synthetic model with one
 * thing wrong: made by the tests, in a temporary folder, never shipped.
 */
import fs from "node:fs";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { parseGguf } from "../../src/engine/gguf/parse.js";
import { buildSyntheticModel, type SyntheticModelSpec } from "../../src/engine/gguf/syntheticModel.js";
import type { GgufWriter } from "../../src/engine/gguf/writer.js";

export const HOSTILE_SPEC: SyntheticModelSpec = { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 128, nVocab: 300, weightType: GgmlType.Q8_0, seed: 11 };

/** Writes the synthetic model of `spec`, with `edit` applied to its writer (metadata overrides). */
export async function writeModel(file: string, spec: Partial<SyntheticModelSpec> = {}, edit?: (writer: GgufWriter) => void): Promise<string> {
  const writer = buildSyntheticModel({ ...HOSTILE_SPEC, ...spec });
  edit?.(writer);
  await writer.writeFile(file);
  return file;
}

/** Overwrites bytes of a tensor's data in a written file, at `byteOffset` into the tensor. */
export function patchTensorData(file: string, tensorName: string, byteOffset: number, bytes: Uint8Array): void {
  const info = tensorInfo(file, tensorName);
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, info.fileOffset + byteOffset);
  } finally {
    fs.closeSync(fd);
  }
}

/** f32 value `value` as 4 little-endian bytes. */
export function f32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setFloat32(0, value, true);
  return out;
}

/**
 * Points tensor `name`'s data offset (in the header's tensor table) at `target`'s: the two
 * tensors then overlap.
 */
export function overlapTensors(file: string, name: string, target: string): void {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const gguf = parseGguf(bytes);
  const info = gguf.tensorsByName.get(name)!;
  const nameBytes = new TextEncoder().encode(name);
  const at = findTensorName(bytes, nameBytes, gguf.dataOffset);
  // name (u64 length + bytes), n_dims u32, dims u64 × n, type u32, then the offset u64
  const offsetAt = at + nameBytes.length + 4 + 8 * info.dims.length + 4;
  new DataView(bytes.buffer).setBigUint64(offsetAt, BigInt(gguf.tensorsByName.get(target)!.relativeOffset), true);
  fs.writeFileSync(file, bytes);
}

/** A copy of `file` with `nBytes` zeroed at `offset`. */
export function zeroedCopy(file: string, copy: string, offset: number, nBytes: number): string {
  fs.copyFileSync(file, copy);
  const fd = fs.openSync(copy, "r+");
  try {
    fs.writeSync(fd, new Uint8Array(nBytes), 0, nBytes, offset);
  } finally {
    fs.closeSync(fd);
  }
  return copy;
}

export function tensorInfo(file: string, name: string) {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 4 << 20));
    fs.readSync(fd, head, 0, head.length, 0);
    const info = parseGguf(head, { fileBytes: fs.fstatSync(fd).size }).tensorsByName.get(name);
    if (!info) throw new Error(`no tensor ${name} in ${file}`);
    return info;
  } finally {
    fs.closeSync(fd);
  }
}

/** Where a tensor's name bytes start in the header (just after its u64 length). */
function findTensorName(bytes: Uint8Array, name: Uint8Array, end: number): number {
  outer: for (let i = 8; i + name.length <= end; i++) {
    for (let j = 0; j < name.length; j++) if (bytes[i + j] !== name[j]) continue outer;
    const length = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(i - 8, true);
    if (length === BigInt(name.length)) return i;
  }
  throw new Error(`tensor name ${new TextDecoder().decode(name)} not found in the header`);
}
