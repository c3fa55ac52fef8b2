/**
 * A ProfileRun whose answer is known by hand: 4 layers on 2 workers (contiguous: worker 1
 * holds layers 0–1, worker 2 layers 2–3, and worker 2's budget holds only 1 of its 2 layers,
 * so every one of its layer runs reads from disk), 1 prompt pass of 5 tokens + 3 decode
 * passes, all passes timed alike:
 *
 *   root:      embedding 1 + output head 4 + sampling 1                     =  6 ms
 *   worker 1:  queue 0.5 + decode 0.5 + 2 × (ops 2+1+6+1 = 10) + encode 0.5 = 21.5 ms
 *   worker 2:  queue 0.5 + decode 0.5 + 2 × (io 20 + ops 2+1+4+1 = 28) + 0.5 = 57.5 ms
 *   network:   3 transfers × 1 ms                                            =  3 ms
 *   wall                                                                     = 88 ms
 *
 * so disk on worker 2 is 40/88 = 45%, compute on worker 1 20/88 = 23%, on worker 2 16/88 = 18%,
 * and worker 2 takes 28.75 ms per layer vs 10.75 ms (imbalance: 2 × 18 / 88 = 41%).
 */
import type { HopTiming, LayerTiming } from "../../src/telemetry/records.js";
import type { ProfileNode, PassProfile, ProfileRun } from "../../src/profile/profileRun.js";

export const LAYER_BYTES = 1_000_000;
const MiB = 2 ** 20;

function layer(index: number, ioWaitMs: number, ffnMs: number, startAtMs: number): LayerTiming {
  const opMs = { attnProjections: 2, attention: 1, ffn: ffnMs, normsRope: 1 };
  const computeMs = 4 + ffnMs;
  return { layer: index, cacheHit: ioWaitMs === 0, bytesRead: ioWaitMs === 0 ? 0 : LAYER_BYTES, ioWaitMs, opMs, startAtMs, endAtMs: startAtMs + ioWaitMs + computeMs };
}

function hop(node: number, layers: readonly number[], ioWaitMs: number, ffnMs: number, pass: { index: number; position: number; nTokens: number }): HopTiming {
  const timings: LayerTiming[] = [];
  let at = 1; // queue 0.5 + decode 0.5
  for (const l of layers) {
    const timing = layer(l, ioWaitMs, ffnMs, at);
    timings.push(timing);
    at = timing.endAtMs;
  }
  return {
    node,
    requestId: pass.index * 2 + node,
    sequenceId: 0,
    position: pass.position,
    nTokens: pass.nTokens,
    queueMs: 0.5,
    decodeMs: 0.5,
    encodeMs: 0.5,
    bytesSent: 100,
    layers: timings,
    totalMs: at + 0.5,
  };
}

function facts(node: number, label: string, layers: number[], layersResident: number): ProfileNode {
  return {
    node,
    label,
    hostname: "fixture-host",
    cpu: "Fixture CPU 3000",
    physicalCores: 2,
    logicalCores: 4,
    memoryBytes: 8192 * MiB,
    availableMemoryBytes: 4096 * MiB,
    disk: "NVMe 512 GB (ext4)",
    os: "Debian GNU/Linux 12",
    budgetBytes: layersResident * LAYER_BYTES + 64 * MiB,
    layers,
    layersResident,
    kernels: "native avx512, 2 threads",
  };
}

export function fixtureRun(): ProfileRun {
  const passes: PassProfile[] = [];
  let position = 0;
  for (let index = 0; index < 4; index++) {
    const nTokens = index === 0 ? 5 : 1;
    const p = { index, position, nTokens };
    passes.push({
      index,
      phase: index === 0 ? "prompt" : "decode",
      nTokens,
      startAtMs: index * 88,
      wallMs: 88,
      root: { embedding: 1, outputHead: 4, sampling: 1 },
      hops: [hop(0, [0, 1], 0, 6, p), hop(1, [2, 3], 20, 4, p)],
      networkMs: 3,
      wireBytes: 300,
    });
    position += nTokens;
  }
  return {
    version: 1,
    argv: ["--model", "fixture.gguf", "--prompt", "Once upon a time", "--spawn-workers", "2", "--assign", "contiguous"],
    model: { path: "fixture.gguf", fileBytes: 4 * LAYER_BYTES + 500_000, nLayer: 4, layerBytes: [LAYER_BYTES, LAYER_BYTES, LAYER_BYTES, LAYER_BYTES] },
    nodes: [facts(-1, "root", [], 0), facts(0, "worker 1 (tcp://127.0.0.1:5601)", [0, 1], 2), facts(1, "worker 2 (tcp://127.0.0.1:5602)", [2, 3], 1)],
    passes,
    reported: { cacheHits: 8, cacheMisses: 8, bytesRead: 8 * LAYER_BYTES, wireBytesSent: 1200, wallSeconds: 0.352 },
  };
}
