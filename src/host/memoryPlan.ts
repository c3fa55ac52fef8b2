/**
 * One memory plan for every process that runs layers, root or worker: `--max-memory` is all the
 * process holds for its part of the model — the head when it keeps it (the root), the KV cache
 * and working buffers of its layers, and the layers themselves. What is left after the fixed
 * parts is the layer cache; layers that do not fit stream from disk through it.
 */
import si from "systeminformation";
import { OptionError } from "../engine/errors.js";
import type { ModelHparams } from "../engine/model/hparams.js";
import type { KvType } from "../engine/model/kvCache.js";
import type { LayerTensors } from "../engine/model/weights.js";
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

export interface MemoryPlanInput {
  readonly hparams: ModelHparams;
  readonly kvType: KvType;
  /** the layers this process runs */
  readonly layers: readonly LayerTensors[];
  /** bytes of the embeddings and output head when this process keeps them (the root), else 0 */
  readonly headBytes: number;
  /** KV positions to plan for: context size × sequences held at once */
  readonly kvPositions: number;
  /** most tokens in one forward pass (working buffers) */
  readonly batchTokens: number;
  /** the process's budget; undefined: available memory less a margin, and a model that fits stays resident */
  readonly maxMemoryBytes?: number;
  readonly prefetch?: number;
}

export interface MemoryPlan {
  /** resident: every layer loaded once and kept; streaming: layers cached under layerBudgetBytes */
  readonly mode: "resident" | "streaming";
  readonly budgetBytes: number;
  readonly budgetSource: "flag" | "available memory";
  /** what the budget must also hold: head, KV cache, working buffers */
  readonly fixedBytes: number;
  readonly layerBudgetBytes: number;
  /** bytes of this process's layers */
  readonly layerBytes: number;
  /** how many of its layers the layer budget holds at once */
  readonly layersResident: number;
  readonly prefetchDepth: number;
  /** the fixed part includes the head (the root's plan) */
  readonly holdsHead: boolean;
}

/** Memory outside the layer cache: head, KV cache, and scratch for one pass of batchTokens rows. */
export function fixedBytes(input: Omit<MemoryPlanInput, "maxMemoryBytes" | "prefetch">): number {
  const { nEmbd, nHead, nHeadKv, headDim, nFf, nVocab } = input.hparams;
  const kvElementBytes = input.kvType === "f16" ? 2 : 4;
  const kv = input.layers.length * 2 * input.kvPositions * nHeadKv * headDim * kvElementBytes;
  const scratch = 4 * input.batchTokens * (3 * nEmbd + 2 * nHead * headDim + 2 * nHeadKv * headDim + 2 * nFf) + (input.headBytes > 0 ? 4 * nVocab : 0);
  return input.headBytes + kv + scratch;
}

/** Plans with the given budget, or with what the machine has available now. */
export async function planMemory(input: MemoryPlanInput): Promise<MemoryPlan> {
  const available = input.maxMemoryBytes === undefined ? await availableMemoryBytes() : undefined;
  return planWithBudget(input, available);
}

/** @param availableBytes memory available now (used when input.maxMemoryBytes is undefined) */
export function planWithBudget(input: MemoryPlanInput, availableBytes = 0): MemoryPlan {
  const budgetSource = input.maxMemoryBytes === undefined ? "available memory" : "flag";
  const budgetBytes = input.maxMemoryBytes ?? Math.max(0, availableBytes - SAFETY_MARGIN_BYTES);
  const fixed = fixedBytes(input);
  const layerBytes = input.layers.reduce((n, l) => n + l.nBytes, 0);
  const layerBudgetBytes = budgetBytes - fixed;
  const largestLayer = input.layers.length > 0 ? StreamingLayerSource.minimumBudget(input.layers) : 0;
  if (layerBudgetBytes < largestLayer || layerBudgetBytes < 0) {
    const what = input.headBytes > 0 ? "head, KV cache and buffers" : "KV cache and buffers";
    throw new OptionError(
      "BUDGET_TOO_SMALL",
      `memory budget ${formatBytes(budgetBytes)} is too small for this model: the minimum is ${formatBytes(fixed + largestLayer)} ` +
        `(one layer ${formatBytes(largestLayer)} + ${what} ${formatBytes(fixed)})`,
    );
  }
  const layersResident = StreamingLayerSource.layersThatFit(input.layers, layerBudgetBytes);
  const resident = budgetSource === "available memory" && layerBudgetBytes >= layerBytes;
  const prefetchDepth = input.prefetch ?? Math.max(0, Math.min(DEFAULT_PREFETCH, layersResident - 1, input.layers.length - 1));
  return { mode: resident ? "resident" : "streaming", budgetBytes, budgetSource, fixedBytes: fixed, layerBudgetBytes, layerBytes, layersResident, prefetchDepth, holdsHead: input.headBytes > 0 };
}

export async function availableMemoryBytes(): Promise<number> {
  return (await si.mem()).available;
}

/** One line for the log, e.g. "memory budget 4.00 GiB (flag): 12.1 GiB of layers cached in 3.52 GiB (…), prefetch 1". */
export function describePlan(plan: MemoryPlan): string {
  const budget = `memory budget ${formatBytes(plan.budgetBytes)} (${plan.budgetSource})`;
  if (plan.mode === "resident") return `${budget}: all ${formatBytes(plan.layerBytes)} of layers stay resident`;
  return (
    `${budget}: ${formatBytes(plan.layerBytes)} of layers cached in ${formatBytes(Math.min(plan.layerBudgetBytes, plan.layerBytes))}` +
    ` (${plan.holdsHead ? "head, " : ""}KV cache and buffers ${formatBytes(plan.fixedBytes)}), prefetch ${plan.prefetchDepth}`
  );
}
