import { describe, expect, it } from "vitest";
import { pack } from "msgpackr";
import { decodeStatsRequestPayload, decodeWorkerStats } from "../../src/protocol/clusterControl.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import type { HopTiming, NodeFacts } from "../../src/telemetry/records.js";

const hop: HopTiming = {
  node: 1,
  requestId: 7,
  sequenceId: 0,
  position: 12,
  nTokens: 1,
  queueMs: 0.01,
  decodeMs: 0.02,
  encodeMs: 0.03,
  bytesSent: 1112,
  totalMs: 2.5,
  layers: [{ layer: 3, cacheHit: false, bytesRead: 4096, ioWaitMs: 1.5, opMs: { attnProjections: 0.2, attention: 0.1, ffn: 0.4, normsRope: 0.05 }, startAtMs: 0.05, endAtMs: 2.4 }],
};
const facts: NodeFacts = {
  hostname: "w1",
  cpu: "Intel Xeon",
  physicalCores: 2,
  logicalCores: 2,
  memoryBytes: 8e9,
  availableMemoryBytes: 6e9,
  disk: "vda 252 GB",
  os: "Debian 12",
  budgetBytes: 1 << 20,
  layers: [1, 3],
  layersResident: 1,
  kernels: "native avx512, 2 threads",
};
const counters = { computeSeconds: 1, batches: 2, wireBytesSent: 3, messagesSent: 4, badFrames: 0, layerRuns: 8, cacheHits: 5, cacheMisses: 6, bytesRead: 7, ioWaitSeconds: 0.5, readBusySeconds: 0.25 };

function expectBadPayload(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("BAD_PAYLOAD");
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error("expected a BAD_PAYLOAD ProtocolError");
}

describe("STATS profile payloads", () => {
  it("round-trips hop records and machine facts", () => {
    const stats = decodeWorkerStats(pack({ ...counters, profile: [hop], facts }));
    expect(stats.profile).toEqual([hop]);
    expect(stats.facts).toEqual(facts);
    expect(stats.cacheMisses).toBe(6);
  });

  it("leaves them out when absent", () => {
    const stats = decodeWorkerStats(pack(counters));
    expect(stats.profile).toBeUndefined();
    expect(stats.facts).toBeUndefined();
  });

  it.each([
    ["a profile that is not a list", { profile: 3 }, /profile should be a list/],
    ["a hop without layers", { profile: [{ ...hop, layers: undefined }] }, /layers should be a list/],
    ["a negative time", { profile: [{ ...hop, decodeMs: -1 }] }, /decodeMs/],
    ["a non-finite time", { profile: [{ ...hop, totalMs: Infinity }] }, /totalMs/],
    ["a fractional layer index", { profile: [{ ...hop, layers: [{ ...hop.layers[0], layer: 1.5 }] }] }, /layer/],
    ["a missing op", { profile: [{ ...hop, layers: [{ ...hop.layers[0], opMs: { attention: 1 } }] }] }, /attnProjections/],
    ["a string cacheHit", { profile: [{ ...hop, layers: [{ ...hop.layers[0], cacheHit: "no" }] }] }, /cacheHit/],
    ["facts without a cpu", { facts: { ...facts, cpu: 5 } }, /cpu/],
    ["facts with bad layers", { facts: { ...facts, layers: [-1] } }, /layers/],
    ["a string cache counter", { cacheHits: "5" }, /cacheHits/],
  ])("rejects %s", (_what, extra, message) => {
    expectBadPayload(() => decodeWorkerStats(pack({ ...counters, ...extra })), message);
  });

  it("decodes the request and rejects a bad one", () => {
    expect(decodeStatsRequestPayload(pack({ takeProfile: true }))).toEqual({ takeProfile: true, status: false });
    expect(decodeStatsRequestPayload(pack({ status: true }))).toEqual({ takeProfile: false, status: true });
    expect(decodeStatsRequestPayload(pack({}))).toEqual({ takeProfile: false, status: false });
    expectBadPayload(() => decodeStatsRequestPayload(pack({ status: "yes" })), /status/);
    expectBadPayload(() => decodeStatsRequestPayload(pack({ takeProfile: 1 })), /takeProfile/);
    expectBadPayload(() => decodeStatsRequestPayload(pack([1])), /not a map/);
    expectBadPayload(() => decodeStatsRequestPayload(Uint8Array.of(0x82, 0xa1)), /not valid msgpack/);
  });
});
