/**
 * Which worker runs which layers. The result is a pipeline: stages in layer order, adjacent
 * layers on the same worker merged into one stage, so activations hop only between workers.
 *
 * - `auto` (default): each worker a contiguous share in proportion to its speed (a timed layer),
 *   capped by what its memory holds; when the cluster's memory cannot hold the model, windows
 *   in a ring (prima.cpp's piped ring): each worker runs a window of layers that fits half its
 *   memory, so it reads its next window while the others compute.
 * - `round-robin`: layer i → worker i mod N (nLayer stages).
 * - `contiguous`: balanced blocks, the first nLayer mod N workers one layer more.
 * - explicit, `0-9@host:port,10-21@host:port`: as given.
 */
import { OptionError } from "../../engine/errors.js";
import type { PipelineStage, WorkerCapacity } from "../../protocol/clusterControl.js";

export const ASSIGN_MODES = ["auto", "round-robin", "contiguous"] as const;
/** One of ASSIGN_MODES. */
export type AssignMode = (typeof ASSIGN_MODES)[number];

/** Layers [from, to) on the worker at `address`. */
export interface ExplicitRange {
  readonly from: number;
  readonly to: number;
  readonly address: string;
}

/** What placement knows of the model: bytes of each layer, KV bytes per layer, per-worker buffers. */
export interface ModelFootprint {
  readonly layerBytes: readonly number[];
  /** the KV cache of one layer for every sequence the root runs */
  readonly kvBytesPerLayer: number;
  /** a worker's working buffers, whatever its layers */
  readonly scratchBytes: number;
}

/** A worker taking part: its index (into the address list) and what it reported at HELLO. */
export interface PlacementWorker {
  readonly index: number;
  readonly capacity?: WorkerCapacity;
}

/**
 * Stages for `workers` (in their order) under `mode`.
 * @throws OptionError BAD_WORKERS when there are no workers, or more than layers (round-robin/contiguous)
 */
export function placeLayers(nLayer: number, workers: readonly PlacementWorker[], mode: AssignMode, footprint?: ModelFootprint): PipelineStage[] {
  if (workers.length === 0) throw new OptionError("BAD_WORKERS", "need at least one worker");
  if (mode === "auto" && footprint) return stagesOf(autoPlacement(nLayer, workers, footprint));
  const evenMode = mode === "auto" ? "contiguous" : mode;
  if (workers.length > nLayer) throw new OptionError("BAD_WORKERS", `${workers.length} workers for ${nLayer} layers: every worker needs at least one layer`);
  return assignLayers(nLayer, workers.length, evenMode).map((s) => ({ ...s, worker: workers[s.worker].index }));
}

/** round-robin or contiguous over workers 0..nWorkers-1 */
export function assignLayers(nLayer: number, nWorkers: number, mode: "round-robin" | "contiguous"): PipelineStage[] {
  if (!Number.isInteger(nWorkers) || nWorkers < 1) throw new OptionError("BAD_WORKERS", `need at least one worker, got ${nWorkers}`);
  if (nWorkers > nLayer) throw new OptionError("BAD_WORKERS", `${nWorkers} workers for ${nLayer} layers: every worker needs at least one layer`);
  const workerOf = new Array<number>(nLayer);
  if (mode === "round-robin") {
    for (let il = 0; il < nLayer; il++) workerOf[il] = il % nWorkers;
  } else {
    const base = Math.floor(nLayer / nWorkers);
    const extra = nLayer % nWorkers;
    let il = 0;
    for (let w = 0; w < nWorkers; w++) for (let k = 0; k < base + (w < extra ? 1 : 0); k++) workerOf[il++] = w;
  }
  return stagesOf(workerOf);
}

/** Merges runs of layers on one worker into stages. */
function stagesOf(workerOf: readonly number[]): PipelineStage[] {
  const stages: PipelineStage[] = [];
  workerOf.forEach((worker, il) => {
    const last = stages.at(-1);
    if (last && last.worker === worker) stages[stages.length - 1] = { ...last, layerTo: il + 1 };
    else stages.push({ worker, layerFrom: il, layerTo: il + 1 });
  });
  return stages;
}

/** Layers a worker's budget holds (its buffers first, then layers with their KV cache). */
export function layersThatFit(capacity: WorkerCapacity | undefined, footprint: ModelFootprint): number {
  if (!capacity) return Number.MAX_SAFE_INTEGER;
  const meanLayerBytes = footprint.layerBytes.reduce((n, b) => n + b, 0) / Math.max(1, footprint.layerBytes.length);
  return Math.max(0, Math.floor((capacity.budgetBytes - footprint.scratchBytes) / (meanLayerBytes + footprint.kvBytesPerLayer)));
}

/** Worker index per layer for `auto`. */
function autoPlacement(nLayer: number, workers: readonly PlacementWorker[], footprint: ModelFootprint): number[] {
  const fits = workers.map((w) => layersThatFit(w.capacity, footprint));
  const usable = workers.filter((_, k) => fits[k] > 0);
  if (usable.length === 0) throw new OptionError("BUDGET_TOO_SMALL", "no worker's memory budget holds even one layer with its KV cache");
  const totalFit = fits.reduce((n, f) => Math.min(Number.MAX_SAFE_INTEGER, n + f), 0);
  if (totalFit < nLayer) return ringWindows(nLayer, workers, fits);
  const shares = proportionalShares(nLayer, workers.map((w) => speedWeight(w, workers)), fits);
  return workers.flatMap((w, k) => new Array<number>(shares[k]).fill(w.index));
}

/**
 * A worker's weight in the split: its speed (1 / layerSeconds; the median of the others when
 * unknown) relative to the fastest, rounded to a power of two and at least 1/8 — machines
 * within a factor of about 1.4 count as equal, so timing noise does not skew an even split.
 */
export function speedWeight(worker: PlacementWorker, all: readonly PlacementWorker[]): number {
  const known = all.map((w) => w.capacity?.layerSeconds ?? 0).filter((s) => s > 0).sort((a, b) => a - b);
  if (known.length === 0) return 1;
  const seconds = worker.capacity?.layerSeconds || known[Math.floor(known.length / 2)];
  const relative = known[0] / seconds;
  return Math.max(1 / 8, 2 ** Math.round(Math.log2(relative)));
}

/**
 * nLayer split in proportion to `weights`, no worker above its `caps` (water-filling: a capped
 * worker's excess goes to the others in proportion), rounded by largest remainder.
 */
export function proportionalShares(nLayer: number, weights: readonly number[], caps: readonly number[]): number[] {
  const exact = new Array<number>(weights.length).fill(0);
  let open = weights.map((_, k) => k).filter((k) => caps[k] > 0);
  let left = nLayer;
  while (left > 1e-9 && open.length > 0) {
    const sum = open.reduce((n, k) => n + weights[k], 0);
    const capped = open.filter((k) => exact[k] + (left * weights[k]) / sum >= caps[k]);
    if (capped.length === 0) {
      for (const k of open) exact[k] += (left * weights[k]) / sum;
      left = 0;
      break;
    }
    for (const k of capped) {
      left -= caps[k] - exact[k];
      exact[k] = caps[k];
    }
    open = open.filter((k) => !capped.includes(k));
  }
  const shares = exact.map(Math.floor);
  let missing = nLayer - shares.reduce((n, s) => n + s, 0);
  const byRemainder = exact.map((x, k) => ({ k, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (const { k } of byRemainder) {
    if (missing === 0) break;
    if (shares[k] < caps[k]) {
      shares[k]++;
      missing--;
    }
  }
  return shares;
}

/** Windows of half what each worker holds, in a ring until every layer is placed. */
function ringWindows(nLayer: number, workers: readonly PlacementWorker[], fits: readonly number[]): number[] {
  const ring = workers.map((w, k) => ({ index: w.index, window: Math.max(1, Math.floor(fits[k] / 2)) })).filter((_, k) => fits[k] > 0);
  const workerOf: number[] = [];
  for (let turn = 0; workerOf.length < nLayer; turn = (turn + 1) % ring.length) {
    const { index, window } = ring[turn];
    for (let k = 0; k < window && workerOf.length < nLayer; k++) workerOf.push(index);
  }
  return workerOf;
}

/**
 * Parses `--assign 0-9@host:port,10-21@host:port` (a host:port without a scheme is tcp://).
 * @returns undefined when `text` is not an explicit assignment
 * @throws OptionError BAD_ASSIGN when it is one but the ranges are off
 */
export function parseExplicitAssignment(text: string, nLayer?: number): ExplicitRange[] | undefined {
  if (!text.includes("@")) return undefined;
  const ranges = text.split(",").map((part) => {
    const match = /^\s*(\d+)(?:-(\d+))?@(\S+)\s*$/.exec(part);
    if (!match) throw new OptionError("BAD_ASSIGN", `--assign part "${part}" is not FROM-TO@HOST:PORT (e.g. 0-9@10.0.0.2:5555)`);
    const from = Number(match[1]);
    const last = match[2] === undefined ? from : Number(match[2]);
    if (last < from) throw new OptionError("BAD_ASSIGN", `--assign range ${from}-${last} runs backwards`);
    const address = /^[a-z]+:\/\//.test(match[3]) ? match[3] : `tcp://${match[3]}`;
    return { from, to: last + 1, address };
  });
  ranges.sort((a, b) => a.from - b.from);
  let expected = 0;
  for (const r of ranges) {
    if (r.from !== expected) throw new OptionError("BAD_ASSIGN", r.from > expected ? `--assign leaves layer ${expected} to nobody` : `--assign gives layer ${r.from} twice`);
    expected = r.to;
  }
  if (nLayer !== undefined && expected !== nLayer) throw new OptionError("BAD_ASSIGN", `--assign covers layers 0-${expected - 1}; the model has ${nLayer} (0-${nLayer - 1})`);
  return ranges;
}

/** Stages of an explicit assignment, workers numbered by their first appearance in `addresses`. */
export function explicitStages(ranges: readonly ExplicitRange[], addresses: readonly string[]): PipelineStage[] {
  const workerOf = ranges.flatMap((r) => new Array<number>(r.to - r.from).fill(addresses.indexOf(r.address)));
  return stagesOf(workerOf);
}

/** One line per worker, e.g. "worker 1 tcp://10.0.0.2:5555: layers 0, 2, 4". */
export function describeAssignment(stages: readonly PipelineStage[], addresses: readonly string[]): string[] {
  return addresses.flatMap((address, w) => {
    const own = stages.filter((s) => s.worker === w).map((s) => (s.layerTo - s.layerFrom === 1 ? `${s.layerFrom}` : `${s.layerFrom}-${s.layerTo - 1}`));
    return own.length === 0 ? [] : [`worker ${w + 1} ${address}: layers ${own.join(", ")}`];
  });
}
