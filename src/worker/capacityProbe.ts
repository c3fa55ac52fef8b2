/**
 * What a worker measures about itself once, for placement (`--assign auto`) and `status`: its
 * budget and free memory (systeminformation), how fast it reads its model file (up to 64 MiB of
 * tensor data, timed), and how long one token takes through one layer (a layer host of one
 * layer, a warm-up run, then the timed run).
 */
import fs from "node:fs";
import type { Model } from "../engine/model/model.js";
import { openLayerHost } from "../host/layerHost.js";
import { availableMemoryBytes } from "../host/memoryPlan.js";
import type { WorkerCapacity } from "../protocol/clusterControl.js";

const READ_PROBE_BYTES = 64 * 2 ** 20;
const READ_CHUNK_BYTES = 4 * 2 ** 20;
/** kept free when the budget is taken from available memory (as the memory plan does) */
const MARGIN_BYTES = 512 * 2 ** 20;

export interface CapacityProbeOptions {
  readonly maxMemoryBytes?: number;
  readonly threads: number;
}

/** Measures once; later calls refresh only the free memory. */
export class CapacityProbe {
  private measured?: Promise<Omit<WorkerCapacity, "freeMemoryBytes" | "budgetBytes">>;

  constructor(
    private readonly model: Model,
    private readonly options: CapacityProbeOptions,
  ) {}

  async capacity(): Promise<WorkerCapacity> {
    this.measured ??= this.measure();
    const measured = await this.measured;
    const freeMemoryBytes = await availableMemoryBytes();
    const given = this.options.maxMemoryBytes;
    return { ...measured, freeMemoryBytes, budgetBytes: given ?? Math.max(0, freeMemoryBytes - MARGIN_BYTES) };
  }

  private async measure(): Promise<Omit<WorkerCapacity, "freeMemoryBytes" | "budgetBytes">> {
    const diskBytesPerSecond = readSpeed(this.model.path, this.model.file.dataOffset);
    const layerSeconds = await timeOneLayer(this.model);
    return { budgetGiven: this.options.maxMemoryBytes !== undefined, diskBytesPerSecond, layerSeconds, threads: this.options.threads };
  }
}

/** Bytes per second reading tensor data from `path` (0 when nothing could be read). */
function readSpeed(path: string, fromByte: number): number {
  const fd = fs.openSync(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const start = performance.now();
    let nBytes = 0;
    while (nBytes < READ_PROBE_BYTES) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, fromByte + nBytes);
      if (n === 0) break;
      nBytes += n;
    }
    const seconds = (performance.now() - start) / 1000;
    return nBytes === 0 || seconds <= 0 ? 0 : nBytes / seconds;
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs of the probe layer: at least this many, then until TIMED_LAYER_MS has passed (at most MAX_LAYER_RUNS). */
const MIN_LAYER_RUNS = 5;
const MAX_LAYER_RUNS = 200;
const TIMED_LAYER_MS = 25;

/**
 * Seconds for one token through the model's first layer, warm (its weights already read): the
 * fastest of repeated runs, so a moment of contention (workers starting together) does not count.
 */
async function timeOneLayer(model: Model): Promise<number> {
  await using host = await openLayerHost(model, { layers: [0], holdsHead: false, contextSize: 8, sequences: 1, maxMemoryBytes: undefined });
  const nEmbd = model.hparams.nEmbd;
  const runAt = (position: number) => host.runner.run([{ sequenceId: 0, position, nTokens: 1, hidden: new Float32Array(nEmbd).fill(0.01) }], { from: 0, to: 1 });
  await runAt(0);
  let fastestMs = Infinity;
  const start = performance.now();
  for (let run = 0; run < MAX_LAYER_RUNS && (run < MIN_LAYER_RUNS || performance.now() - start < TIMED_LAYER_MS); run++) {
    await host.runner.truncate(0, 1);
    const t0 = performance.now();
    await runAt(1);
    fastestMs = Math.min(fastestMs, performance.now() - t0);
  }
  return fastestMs / 1000;
}
