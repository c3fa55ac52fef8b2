import { describe, expect, it } from "vitest";
import { assignLayers, describeAssignment, explicitStages, layersThatFit, parseExplicitAssignment, placeLayers, proportionalShares, speedWeight, type ModelFootprint } from "../../src/root/cluster/assignment.js";
import type { WorkerCapacity } from "../../src/protocol/clusterControl.js";

const MiB = 2 ** 20;
/** 32 layers of 100 MiB, 4 MiB of KV per layer, 50 MiB of buffers per worker */
const FOOTPRINT: ModelFootprint = { layerBytes: new Array(32).fill(100 * MiB), kvBytesPerLayer: 4 * MiB, scratchBytes: 50 * MiB };
const capacity = (budgetMiB: number, layerMs: number): WorkerCapacity => ({ budgetBytes: budgetMiB * MiB, budgetGiven: true, freeMemoryBytes: budgetMiB * MiB, diskBytesPerSecond: 1e9, layerSeconds: layerMs / 1000, threads: 4 });
const layerCounts = (stages: { worker: number; layerFrom: number; layerTo: number }[], n: number) => Array.from({ length: n }, (_, w) => stages.filter((s) => s.worker === w).reduce((k, s) => k + s.layerTo - s.layerFrom, 0));

describe("cluster-assignment", () => {
  it("round-robin puts layer i on worker i mod N, one stage per layer", () => {
    expect(assignLayers(5, 2, "round-robin")).toEqual([
      { worker: 0, layerFrom: 0, layerTo: 1 },
      { worker: 1, layerFrom: 1, layerTo: 2 },
      { worker: 0, layerFrom: 2, layerTo: 3 },
      { worker: 1, layerFrom: 3, layerTo: 4 },
      { worker: 0, layerFrom: 4, layerTo: 5 },
    ]);
  });

  it("contiguous gives balanced blocks, the first workers one layer more", () => {
    expect(assignLayers(8, 3, "contiguous")).toEqual([
      { worker: 0, layerFrom: 0, layerTo: 3 },
      { worker: 1, layerFrom: 3, layerTo: 6 },
      { worker: 2, layerFrom: 6, layerTo: 8 },
    ]);
  });

  it("merges everything into one stage for one worker, and refuses more workers than layers", () => {
    expect(assignLayers(5, 1, "round-robin")).toEqual([{ worker: 0, layerFrom: 0, layerTo: 5 }]);
    expect(() => assignLayers(2, 3, "contiguous")).toThrow(/3 workers for 2 layers/);
  });

  it("describes the assignment one line per worker", () => {
    expect(describeAssignment(assignLayers(5, 2, "round-robin"), ["tcp://a:1", "tcp://b:2"])).toEqual(["worker 1 tcp://a:1: layers 0, 2, 4", "worker 2 tcp://b:2: layers 1, 3"]);
    expect(describeAssignment(assignLayers(5, 2, "contiguous"), ["tcp://a:1", "tcp://b:2"])).toEqual(["worker 1 tcp://a:1: layers 0-2", "worker 2 tcp://b:2: layers 3-4"]);
  });

  it("auto on equal machines splits evenly in contiguous blocks, whatever the timing noise", () => {
    const workers = [capacity(8000, 2.0), capacity(8000, 2.3), capacity(8000, 1.8)].map((c, index) => ({ index, capacity: c }));
    const stages = placeLayers(32, workers, "auto", FOOTPRINT);
    expect(stages).toHaveLength(3);
    expect(layerCounts(stages, 3).sort()).toEqual([10, 11, 11]);
  });

  it("auto gives a worker twice as fast twice the layers, and caps each at what its memory holds", () => {
    const fast = placeLayers(30, [{ index: 0, capacity: capacity(8000, 1) }, { index: 1, capacity: capacity(8000, 2) }], "auto", FOOTPRINT);
    expect(layerCounts(fast, 2)).toEqual([20, 10]);
    // worker 0 holds only 9 layers (1000 MiB − 50 MiB buffers, 104 MiB a layer): the rest goes to worker 1
    expect(layersThatFit(capacity(1000, 1), FOOTPRINT)).toBe(9);
    const capped = placeLayers(30, [{ index: 0, capacity: capacity(1000, 1) }, { index: 1, capacity: capacity(8000, 2) }], "auto", FOOTPRINT);
    expect(layerCounts(capped, 2)).toEqual([9, 21]);
  });

  it("auto places windows in a ring when the cluster's memory is smaller than the model", () => {
    // each holds 7 layers, the cluster 21 of 32: windows of 3 (half of what each holds), in turn
    const workers = [0, 1, 2].map((index) => ({ index, capacity: capacity(800, 1) }));
    const stages = placeLayers(32, workers, "auto", FOOTPRINT);
    expect(stages.slice(0, 4)).toEqual([
      { worker: 0, layerFrom: 0, layerTo: 3 },
      { worker: 1, layerFrom: 3, layerTo: 6 },
      { worker: 2, layerFrom: 6, layerTo: 9 },
      { worker: 0, layerFrom: 9, layerTo: 12 },
    ]);
    expect(stages.at(-1)!.layerTo).toBe(32);
    expect(() => placeLayers(32, [{ index: 0, capacity: capacity(100, 1) }], "auto", FOOTPRINT)).toThrow(/no worker's memory budget holds even one layer/);
  });

  it("auto keeps the workers' own indices (survivors after a loss) and falls back to an even split without sizes", () => {
    expect(placeLayers(4, [{ index: 2 }, { index: 5 }], "auto").map((s) => s.worker)).toEqual([2, 5]);
    expect(placeLayers(4, [{ index: 1 }, { index: 3 }], "round-robin").map((s) => s.worker)).toEqual([1, 3, 1, 3]);
  });

  it("proportional shares add up, respect caps and round by largest remainder", () => {
    expect(proportionalShares(10, [1, 1, 1], [99, 99, 99])).toEqual([4, 3, 3]);
    expect(proportionalShares(10, [1, 1], [2, 99])).toEqual([2, 8]);
    expect(speedWeight({ index: 0, capacity: capacity(1, 4) }, [{ index: 0, capacity: capacity(1, 4) }, { index: 1, capacity: capacity(1, 1) }])).toBe(0.25);
  });

  it("explicit ranges: parsed, checked for gaps and overlaps, workers numbered by first use", () => {
    const ranges = parseExplicitAssignment("0-2@10.0.0.2:5555,3-4@tcp://10.0.0.3:5555", 5)!;
    expect(ranges).toEqual([{ from: 0, to: 3, address: "tcp://10.0.0.2:5555" }, { from: 3, to: 5, address: "tcp://10.0.0.3:5555" }]);
    expect(explicitStages(ranges, ["tcp://10.0.0.2:5555", "tcp://10.0.0.3:5555"])).toEqual([{ worker: 0, layerFrom: 0, layerTo: 3 }, { worker: 1, layerFrom: 3, layerTo: 5 }]);
    expect(parseExplicitAssignment("auto")).toBeUndefined();
    expect(() => parseExplicitAssignment("0-2@a:1,4-5@b:2", 6)).toThrow(/leaves layer 3 to nobody/);
    expect(() => parseExplicitAssignment("0-3@a:1,3-5@b:2", 6)).toThrow(/gives layer 3 twice/);
    expect(() => parseExplicitAssignment("0-3@a:1", 6)).toThrow(/covers layers 0-3; the model has 6/);
    expect(() => parseExplicitAssignment("x@a:1")).toThrow(/is not FROM-TO@HOST:PORT/);
  });
});
