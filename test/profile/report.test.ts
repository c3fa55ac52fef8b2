import { describe, expect, it } from "vitest";
import { summarize } from "../../src/profile/summarize.js";
import { formatTable, renderTable } from "../../src/profile/table.js";
import { esc, renderHtml } from "../../src/profile/html.js";
import type { ProfileRun } from "../../src/profile/profileRun.js";
import { fixtureRun } from "./fixture.js";

describe("text table", () => {
  const run = fixtureRun();
  const text = renderTable(summarize(run));
  const lines = text.split("\n");

  it("pads columns and right-aligns numbers", () => {
    expect(formatTable(["name", "ms"], [["a", "1.0"], ["long name", "10.0"]], ["left", "right"]).split("\n")).toEqual([
      "name         ms",
      "---------  ----",
      "a           1.0",
      "long name  10.0",
    ]);
  });

  it("opens with the run and the three bottlenecks", () => {
    expect(lines[0]).toBe("profile: 4 passes (1 prompt of 5 tokens, 3 decode), 352.0 ms wall, 2 workers, 88.0 ms per decoded token");
    expect(lines[2]).toBe("Bottlenecks");
    expect(lines[3]).toMatch(/^ {2}1\. 45% of time is disk reads on worker 2: its budget holds 1 of 2 layers/);
    expect(lines[5]).toMatch(/^ {2}3\. 23% of time is compute on worker 1/);
  });

  it("has a row per layer with node, hits, misses, bytes, io wait, ops and share", () => {
    const row = lines.find((l) => /^\s+2\s+worker 2/.test(l));
    expect(row?.trim().split(/\s{2,}/)).toEqual(["2", "worker 2", "0", "4", "3.81 MiB", "80.0", "8.0", "4.0", "16.0", "4.0", "112.0", "32%"]);
  });

  it("has per-operation, per-node, root and network sections", () => {
    expect(lines.find((l) => l.startsWith("disk wait"))?.trim().split(/\s{2,}/)).toEqual(["disk wait", "160.0", "40.0", "45%"]);
    expect(lines.find((l) => l.startsWith("worker 2 "))?.trim().split(/\s{2,}/)).toEqual(["worker 2", "2", "1", "65.0 MiB", "64.0", "160.0", "2.0", "4.0", "230.0", "65%", "8", "7.63 MiB", "400 B"]);
    expect(lines.find((l) => /^output head {2}/.test(l))?.trim().split(/\s{2,}/)).toEqual(["output head", "16.0", "4.0", "5%"]);
    expect(text).toContain("network: 12 transfers, 1.17 KiB of activations, 12.0 ms on the wire (3%; 1.00 ms and 100 B per transfer)");
  });

  it("says so when a run is local", () => {
    const local: ProfileRun = { ...run, nodes: [run.nodes[0]], passes: run.passes.map((p) => ({ ...p, networkMs: 0, wireBytes: 0, hops: [{ ...p.hops[0], node: -1 }] })) };
    const localText = renderTable(summarize(local));
    expect(localText).toContain("network: none (local run)");
    expect(localText.split("\n")[0]).toContain(", local,");
  });
});

describe("HTML report", () => {
  const run = fixtureRun();
  const summary = summarize(run);
  const html = renderHtml({ ...run, argv: [...run.argv, "--prompt", "<b>&"] }, summary, renderTable(summary));

  it("is one self-contained document: no external scripts, styles, images or fonts", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=|<link |<img |url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("holds the bottlenecks, the timeline, a bar per layer, the machine facts and the table", () => {
    expect(html.match(/<li data-kind="/g)).toHaveLength(3);
    expect(html).toContain(`<li data-kind="disk">45% of time is disk reads on worker 2`);
    expect(html.match(/<rect class="bar /g)).toHaveLength(72);
    expect(html.match(/<g class="layer-bar"/g)).toHaveLength(4);
    expect(html.match(/<rect class="seg ioWait"/g)).toHaveLength(2);
    expect(html.match(/<rect class="seg ffn"/g)).toHaveLength(4);
    expect(html.match(/<tr data-node="/g)).toHaveLength(3);
    expect(html).toContain("<td>Fixture CPU 3000</td>");
    expect(html).toContain("<td>NVMe 512 GB (ext4)</td>");
    expect(html).toContain(esc(renderTable(summary)));
  });

  it("escapes text from the run", () => {
    expect(html).toContain("--prompt &lt;b&gt;&amp;");
    expect(html).not.toContain("<b>&");
  });
});
