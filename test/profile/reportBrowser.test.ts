/**
 * The HTML report rendered by headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): lanes, bars and labels are on screen. Skipped, with a message, when
 * Chromium is not installed (`apt-get install -y chromium`; .ci/run does it).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium, CHROMIUM_PATH } from "../../scripts/profile/browser.js";
import { summarize } from "../../src/profile/summarize.js";
import { renderTable } from "../../src/profile/table.js";
import { renderHtml } from "../../src/profile/html.js";
import { fixtureRun } from "./fixture.js";
import { readReportDom } from "./reportDom.js";
import { requirePrerequisite } from "../helpers/prerequisite.js";

const haveChromium = chromiumAvailable();
const CHROMIUM_HOW = ".ci/run installs it: apt-get install -y chromium";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-profile-report-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("profile report in headless Chromium (fixture)", () => {
  requirePrerequisite(haveChromium, `Chromium at ${CHROMIUM_PATH}`, CHROMIUM_HOW);
  it("shows a lane per node, every bar, a bar per layer and the bottlenecks; zoom widens the timeline", async () => {
    const run = fixtureRun();
    const summary = summarize(run);
    const file = path.join(dir, "fixture.html");
    fs.writeFileSync(file, renderHtml(run, summary, renderTable(summary)));
    await using browser = await launchChromium();
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`file://${file}`);
    const dom = await readReportDom(page);
    expect(requests).toEqual([`file://${file}`]);
    expect(dom.laneNames).toEqual(["root", "worker 1", "worker 2"]);
    expect(dom.barCounts).toEqual({
      "-1/embedding": 4,
      "-1/network": 4,
      "-1/outputHead": 4,
      "-1/sampling": 4,
      "0/queue": 4,
      "0/codec": 8,
      "0/compute": 8,
      "0/network": 4,
      "1/queue": 4,
      "1/codec": 8,
      "1/io": 8,
      "1/compute": 8,
      "1/network": 4,
    });
    expect(dom.visibleTitledBars).toBe(72);
    expect(dom.passBoundaries).toBe(4);
    expect(dom.layerLabels).toEqual(["layer 0 · worker 1", "layer 1 · worker 1", "layer 2 · worker 2", "layer 3 · worker 2"]);
    // layer 2: disk wait 80 ms vs ffn 16 ms, drawn to scale
    expect(dom.layerSegmentWidths["2/ioWait"] / dom.layerSegmentWidths["2/ffn"]).toBeCloseTo(5, 1);
    expect(dom.layerSegmentWidths["0/ioWait"]).toBeUndefined();
    expect(dom.bottlenecks).toHaveLength(3);
    expect(dom.bottlenecks[0]).toMatch(/^45% of time is disk reads on worker 2/);
    expect(dom.nodeRows).toBe(3);

    await page.locator("#zoom").fill("4");
    const zoomed = await readReportDom(page);
    expect(zoomed.timelineWidthPx).toBeCloseTo(4 * dom.timelineWidthPx, 0);
    expect(zoomed.visibleTitledBars).toBe(72);
  });
});
