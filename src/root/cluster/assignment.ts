/**
 * Which worker runs which layers. The result is a pipeline: stages in layer order, adjacent
 * layers on the same worker merged into one stage, so activations hop only between workers.
 */
import { OptionError } from "../../engine/errors.js";
import type { PipelineStage } from "../../protocol/clusterControl.js";

/** How layers are spread over workers: `round-robin` (layer i → worker i mod N) or `contiguous` (balanced blocks). */
export const ASSIGN_MODES = ["round-robin", "contiguous"] as const;
/** One of ASSIGN_MODES. */
export type AssignMode = (typeof ASSIGN_MODES)[number];

/**
 * - `round-robin`: layer i → worker i mod nWorkers (nLayer stages when nWorkers > 1)
 * - `contiguous`: balanced blocks, the first nLayer mod nWorkers workers one layer more
 */
export function assignLayers(nLayer: number, nWorkers: number, mode: AssignMode): PipelineStage[] {
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
  const stages: PipelineStage[] = [];
  for (let il = 0; il < nLayer; il++) {
    const last = stages.at(-1);
    if (last && last.worker === workerOf[il]) stages[stages.length - 1] = { ...last, layerTo: il + 1 };
    else stages.push({ worker: workerOf[il], layerFrom: il, layerTo: il + 1 });
  }
  return stages;
}

/** One line per worker, e.g. "worker 1 tcp://10.0.0.2:5555: layers 0, 2, 4". */
export function describeAssignment(stages: readonly PipelineStage[], addresses: readonly string[]): string[] {
  return addresses.map((address, w) => {
    const own = stages.filter((s) => s.worker === w).map((s) => (s.layerTo - s.layerFrom === 1 ? `${s.layerFrom}` : `${s.layerFrom}-${s.layerTo - 1}`));
    return `worker ${w + 1} ${address}: layers ${own.join(", ")}`;
  });
}
