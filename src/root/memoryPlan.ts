import si from "systeminformation";
import { OptionError } from "../engine/errors.js";
import type { Model } from "../engine/model/model.js";
import { headBytes } from "../engine/model/weights.js";
import { StreamingLayerSource } from "../engine/streaming/streamingLayerSource.js";
import { formatBytes } from "../engine/streaming/byteSize.js";

/** Kept free when the budget is taken from available memory. */
const SAFETY_MARGIN_BYTES = 512 * 2 ** 20;
/**
 * Default read-ahead: one layer. Each layer of read-ahead takes a cache slot from the set of
 * layers that stay resident, and every slot lost there is one more layer read per token; one
 * layer ahead already keeps the disk busy while the current layer computes.
 */
const DEFAULT_PREFETCH = 1;

export interface MemoryPlan {
  /** resident: every layer stays (mapped); streaming: layers cached under layerBudgetBytes */
  readonly mode: "resident" | "streaming";
  readonly budgetBytes: number;
  /** what the budget must also hold: head, KV cache, working buffers */
  readonly fixedBytes: number;
  readonly layerBudgetBytes: number;
  readonly prefetchDepth: number;
  readonly modelLayerBytes: number;
  readonly budgetSource: "flag" | "available memory";
}

/** Memory outside the layer cache: head tensors, KV cache for `nPositions`, scratch for `nBatch` rows. */
export function fixedBytes(model: Model, nPositions: number, nBatch: number): number {
  const { nEmbd, nHead, nHeadKv, headDim, nFf, nLayer, nVocab } = model.hparams;
  const kvElementBytes = model.kvType === "f16" ? 2 : 4;
  const kv = nLayer * 2 * nPositions * nHeadKv * headDim * kvElementBytes;
  const scratch = 4 * nBatch * (3 * nEmbd + 2 * nHead * headDim + 2 * nHeadKv * headDim + 2 * nFf) + 4 * (nVocab + nPositions);
  return headBytes(model.file) + kv + scratch;
}

export async function planMemory(
  model: Model,
  options: { maxMemoryBytes?: number; prefetchDepth?: number; nPositions: number; nBatch: number },
): Promise<MemoryPlan> {
  const budgetSource = options.maxMemoryBytes === undefined ? "available memory" : "flag";
  const budgetBytes = options.maxMemoryBytes ?? Math.max(0, (await si.mem()).available - SAFETY_MARGIN_BYTES);
  const fixed = fixedBytes(model, options.nPositions, options.nBatch);
  const modelLayerBytes = model.layers.reduce((n, l) => n + l.nBytes, 0);
  const largestLayer = StreamingLayerSource.minimumBudget(model.layers);
  const layerBudgetBytes = budgetBytes - fixed;
  if (layerBudgetBytes < largestLayer) {
    throw new OptionError(
      "BUDGET_TOO_SMALL",
      `memory budget ${formatBytes(budgetBytes)} is too small for this model: the minimum is ${formatBytes(fixed + largestLayer)} ` +
        `(one layer ${formatBytes(largestLayer)} + head, KV cache and buffers ${formatBytes(fixed)})`,
    );
  }
  const fits = layerBudgetBytes >= modelLayerBytes;
  const layersThatFit = StreamingLayerSource.layersThatFit(model.layers, layerBudgetBytes);
  const prefetchDepth = options.prefetchDepth ?? Math.max(0, Math.min(DEFAULT_PREFETCH, layersThatFit - 1, model.layers.length - 1));
  return {
    mode: fits && budgetSource === "available memory" ? "resident" : "streaming",
    budgetBytes,
    fixedBytes: fixed,
    layerBudgetBytes,
    prefetchDepth,
    modelLayerBytes,
    budgetSource,
  };
}
