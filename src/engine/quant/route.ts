/** Building blocks for `WeightKernel.route`. */
import type { ActivationQuantizer, DotPath, MatmulRoute, RowDot } from "./kernel.js";

/** A route that uses one path for every token. */
export function uniformRoute(path: DotPath): MatmulRoute {
  return { nBatched: 0, batched: path, single: path };
}

/** `{ activation, dot }` */
export function dotPath(activation: ActivationQuantizer, dot: RowDot): DotPath {
  return { activation, dot };
}
