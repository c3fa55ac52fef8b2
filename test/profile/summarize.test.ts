import { describe, expect, it } from "vitest";
import { summarize, percent, formatMs } from "../../src/profile/summarize.js";
import type { ProfileRun } from "../../src/profile/profileRun.js";
import { fixtureRun, LAYER_BYTES } from "./fixture.js";

describe("summarize", () => {
  const run = fixtureRun();
  const s = summarize(run);

  it("adds up the wall time and counts the passes", () => {
    expect(s.wallMs).toBe(352);
    expect(s.nPasses).toBe(4);
    expect(s.nPromptPasses).toBe(1);
    expect(s.nPromptTokens).toBe(5);
    expect(s.nDecodePasses).toBe(3);
    expect(s.transfers).toBe(12);
    expect(s.wireBytes).toBe(1200);
  });

  it("aggregates per layer with the node that ran it", () => {
    expect(s.layers.map((l) => [l.layer, l.nodeName, l.hits, l.misses])).toEqual([
      [0, "worker 1", 4, 0],
      [1, "worker 1", 4, 0],
      [2, "worker 2", 0, 4],
      [3, "worker 2", 0, 4],
    ]);
    const l2 = s.layers[2];
    expect(l2.bytesRead).toBe(4 * LAYER_BYTES);
    expect(l2.ioWaitMs).toBe(80);
    expect(l2.opMs).toEqual({ attnProjections: 8, attention: 4, ffn: 16, normsRope: 4 });
    expect(l2.totalMs).toBe(112);
    expect(l2.share).toBeCloseTo(112 / 352, 12);
  });

  it("aggregates per node", () => {
    const [root, w1, w2] = s.nodes;
    expect(root.name).toBe("root");
    expect(root.layerRuns).toBe(0);
    expect(w1).toMatchObject({ name: "worker 1", hops: 4, layerRuns: 8, computeMs: 80, ioWaitMs: 0, queueMs: 2, codecMs: 4, bytesSent: 400, busyMs: 86 });
    expect(w2).toMatchObject({ name: "worker 2", hops: 4, layerRuns: 8, computeMs: 64, ioWaitMs: 160, misses: 8, bytesRead: 8 * LAYER_BYTES, busyMs: 230 });
  });

  it("splits the wall time into parts that add up to it", () => {
    const byKey = Object.fromEntries(s.parts.map((p) => [p.key, p.ms]));
    expect(byKey).toEqual({
      ioWait: 160,
      attnProjections: 32,
      attention: 16,
      ffn: 80,
      normsRope: 16,
      queue: 4,
      codec: 8,
      network: 12,
      embedding: 4,
      outputHead: 16,
      sampling: 4,
      other: 0,
    });
    expect(s.parts.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 12);
  });

  it("names the three biggest causes in plain words, biggest first", () => {
    const top = s.bottlenecks.slice(0, 3);
    expect(top.map((b) => [b.kind, b.node])).toEqual([
      ["disk", 1],
      ["imbalance", 1],
      ["compute", 0],
    ]);
    expect(top[0].sentence).toBe("45% of time is disk reads on worker 2: its budget holds 1 of 2 layers (8 of 8 layer runs read from disk, 7.63 MiB)");
    expect(top[1].sentence).toMatch(/^41% of time is imbalance: worker 2 takes 2\.7× as long per layer as worker 1 \(28\.8 ms vs 10\.8 ms\), mostly disk waits/);
    expect(top[2].sentence).toBe("23% of time is compute on worker 1 (2 layers), mostly feed-forward (FFN) 14%, attention projections 5%");
    expect(s.bottlenecks.find((b) => b.kind === "network")?.sentence).toBe("3% of time is the network: 12 transfers, 1.00 ms and 100 B each on average");
    expect(s.bottlenecks.find((b) => b.kind === "outputHead")?.share).toBeCloseTo(16 / 352, 12);
  });

  it("speaks of 'this machine' for a local run and has no network or imbalance", () => {
    const local: ProfileRun = {
      ...run,
      nodes: [{ ...run.nodes[0], layers: [0, 1, 2, 3], layersResident: 4 }],
      passes: run.passes.map((pass) => ({
        ...pass,
        networkMs: 0,
        wireBytes: 0,
        hops: [{ ...pass.hops[1], node: -1, layers: [...pass.hops[0].layers, ...pass.hops[1].layers] }],
      })),
    };
    const ls = summarize(local);
    expect(ls.transfers).toBe(0);
    expect(ls.bottlenecks.map((b) => b.kind)).not.toContain("network");
    expect(ls.bottlenecks.map((b) => b.kind)).not.toContain("imbalance");
    expect(ls.bottlenecks[0].sentence).toMatch(/^\d+% of time is (disk reads|compute) on this machine/);
    expect(ls.bottlenecks.find((b) => b.kind === "disk")?.sentence).toContain("its budget holds all 4 layers, so these are first loads");
  });

  it("formats shares and durations", () => {
    expect(percent(0.623)).toBe("62%");
    expect(percent(0.001)).toBe("<1%");
    expect(percent(0)).toBe("0%");
    expect(formatMs(1234.5)).toBe("1.23 s");
    expect(formatMs(12.34)).toBe("12.3 ms");
    expect(formatMs(0.1234)).toBe("0.12 ms");
  });
});
