/** ASSIGN payloads: the flash-attention field (absent on classic attention, a positive chunk count otherwise). */
import { describe, expect, it } from "vitest";
import { encodeControl } from "../../src/protocol/control.js";
import { decodeAssign } from "../../src/protocol/clusterControl.js";

const BASE = { session: 7, workerIndex: 0, addresses: ["tcp://127.0.0.1:1"], stages: [{ worker: 0, layerFrom: 0, layerTo: 2 }], encoding: 1, kvType: "f16", contextSize: 64 };

describe("decodeAssign", () => {
  it("carries flashKvChunks when the root runs flash attention", () => {
    expect(decodeAssign(encodeControl({ ...BASE, flashKvChunks: 4 })).flashKvChunks).toBe(4);
  });

  it("leaves it out for classic attention (and from roots that predate it)", () => {
    expect(decodeAssign(encodeControl(BASE))).not.toHaveProperty("flashKvChunks");
  });

  it.each([0, -1, 1.5, "2", 5000])("refuses flashKvChunks %j with a one-line error naming the field", (value) => {
    expect(() => decodeAssign(encodeControl({ ...BASE, flashKvChunks: value }))).toThrow(/flashKvChunks/);
  });
});
