/**
 * Synthetic benchmark models, written once with the project's own GGUF writer and cached
 * outside the repository (LAYERSTREAM_BENCH_CACHE, default ~/.cache/layerstream-bench).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType, ggmlTypeName } from "../../src/engine/ggml/types.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../../src/engine/gguf/syntheticModel.js";

/** TinyLlama-1.1B's shape: dim 2048, ffn 5632, 22 layers, 32 heads, 4 KV heads, vocab 32000. */
export function tinyLlamaShape(weightType: GgmlType): SyntheticModelSpec {
  return { nEmbd: 2048, nFf: 5632, nLayer: 22, nHead: 32, nHeadKv: 4, nVocab: 32000, nCtxTrain: 2048, weightType, embdType: weightType, seed: 1234 };
}

/**
 * Llama-2-7B's shape in Q4_0 (dim 4096, ffn 11008, 32 layers, 32 heads, vocab 32000; 3.6 GiB):
 * random codes with one scale (randomBlocks), as only its speed is measured.
 */
export const LLAMA_7B_Q4_0: SyntheticModelSpec = {
  nEmbd: 4096, nFf: 11008, nLayer: 32, nHead: 32, nHeadKv: 32, nVocab: 32000, nCtxTrain: 4096,
  weightType: GgmlType.Q4_0, embdType: GgmlType.Q4_0, outputType: GgmlType.Q4_0, seed: 7, randomBlocks: true,
};

/** A mid-size llama: big enough that activations are realistic (nEmbd 1024), small enough for the TypeScript kernels. */
export const MID_LLAMA: SyntheticModelSpec = { nEmbd: 1024, nFf: 2816, nLayer: 8, nHead: 16, nHeadKv: 4, nVocab: 8192, nCtxTrain: 1024, weightType: GgmlType.Q8_0, embdType: GgmlType.Q8_0, seed: 4321 };

export function benchCacheDir(): string {
  return process.env.LAYERSTREAM_BENCH_CACHE ?? path.join(os.homedir(), ".cache", "layerstream-bench");
}

/** Path of the cached model, written first if missing. */
export async function ensureBenchModel(name: string, spec: SyntheticModelSpec, log: (line: string) => void): Promise<string> {
  const dir = benchCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${ggmlTypeName(spec.weightType)}.gguf`);
  if (fs.existsSync(file)) return file;
  log(`writing synthetic model ${file} (once; cached for later runs)…`);
  const start = performance.now();
  await writeSyntheticModel(`${file}.partial`, spec);
  fs.renameSync(`${file}.partial`, file);
  log(`  ${(fs.statSync(file).size / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - start) / 1000).toFixed(0)} s`);
  return file;
}
