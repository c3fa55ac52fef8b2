import { describe, expect, it } from "vitest";
import { assignLayers, describeAssignment } from "../../src/root/cluster/assignment.js";

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
});
