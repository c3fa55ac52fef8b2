import { describe, expect, it } from "vitest";
import { layoutTimeline, renderTimelineSvg } from "../../src/profile/timeline.js";
import { fixtureRun } from "./fixture.js";

describe("layoutTimeline", () => {
  const timeline = layoutTimeline(fixtureRun());
  const pass0 = timeline.bars.filter((b) => b.pass === 0);
  const span = (node: number, kind: string, layer?: number) =>
    pass0.filter((b) => b.node === node && b.kind === kind && (layer === undefined || b.layer === layer)).map((b) => [b.startMs, b.endMs]);

  it("has a lane per node and the pass boundaries", () => {
    expect(timeline.nodes.map((n) => n.name)).toEqual(["root", "worker 1", "worker 2"]);
    expect(timeline.passStartsMs).toEqual([0, 88, 176, 264]);
    expect(timeline.endMs).toBe(352);
  });

  it("places hops in pipeline order with an even share of the network time per transfer", () => {
    expect(span(-1, "embedding")).toEqual([[0, 1]]);
    // 3 transfers of 1 ms: root → worker 1, worker 1 → worker 2, worker 2 → root
    expect(span(-1, "network")).toEqual([[1, 2]]);
    expect(span(0, "network")).toEqual([[23.5, 24.5]]);
    expect(span(1, "network")).toEqual([[82, 83]]);
    expect(span(0, "queue")).toEqual([[2, 2.5]]);
    expect(span(0, "compute", 0)).toEqual([[3, 13]]);
    expect(span(0, "compute", 1)).toEqual([[13, 23]]);
    expect(span(0, "codec")).toEqual([[2.5, 3], [23, 23.5]]);
    expect(span(1, "io", 2)).toEqual([[25.5, 45.5]]);
    expect(span(1, "compute", 2)).toEqual([[45.5, 53.5]]);
    expect(span(1, "io", 3)).toEqual([[53.5, 73.5]]);
    expect(span(-1, "outputHead")).toEqual([[83, 87]]);
    expect(span(-1, "sampling")).toEqual([[87, 88]]);
    // the next pass starts from its own startAtMs
    expect(timeline.bars.find((b) => b.pass === 1 && b.kind === "embedding")?.startMs).toBe(88);
  });

  it("puts each kind on its row and skips empty bars (hits have no disk wait)", () => {
    for (const bar of timeline.bars) {
      const row = bar.kind === "io" ? "io" : bar.kind === "network" || bar.kind === "codec" ? "network" : "compute";
      expect(bar.row).toBe(row);
      expect(bar.endMs).toBeGreaterThan(bar.startMs);
    }
    expect(timeline.bars.filter((b) => b.node === 0 && b.kind === "io")).toHaveLength(0);
    expect(timeline.bars).toHaveLength(4 * 18);
  });

  it("renders every bar as an SVG rect with a hover title, and the lanes", () => {
    const svg = renderTimelineSvg(timeline);
    expect(svg.match(/<rect class="bar /g)).toHaveLength(72);
    expect(svg.match(/<rect class="bar io" data-node="1"/g)).toHaveLength(8);
    expect(svg.match(/<rect class="bar compute" data-node="0"/g)).toHaveLength(8);
    expect(svg.match(/<line class="pass-boundary"/g)).toHaveLength(4);
    expect(svg.match(/<text class="lane-label"[^>]*>([^<]*)</g)?.map((t) => t.replace(/.*>|<$/g, ""))).toEqual(["root", "worker 1", "worker 2"]);
    expect(svg).toContain("<title>pass 1 (decode, 1 token): layer 2 cache miss, 977 KiB read, waited 20.0 ms for disk</title>");
  });
});
