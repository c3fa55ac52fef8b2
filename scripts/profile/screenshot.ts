/**
 * npx tsx scripts/profile/screenshot.ts REPORT.html OUT.png [--width PX]
 *
 * Renders a profile report in headless Chromium and saves a PNG of the top of the page
 * (bottlenecks, where the time went, the timeline, the per-layer bars and the nodes), as in
 * docs/profile.png.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { launchChromium } from "./browser.js";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { width: { type: "string", default: "1200" } } });
const [reportPath, pngPath] = positionals;
if (!reportPath || !pngPath) {
  process.stderr.write("usage: tsx scripts/profile/screenshot.ts REPORT.html OUT.png [--width PX]\n");
  process.exitCode = 2;
} else {
  await using browser = await launchChromium();
  const page = await browser.newPage();
  await page.setViewportSize({ width: Number(values.width), height: 800 });
  await page.goto(`file://${path.resolve(reportPath)}`);
  // down to the end of the nodes' table; the text table stays in the HTML
  const bottomPx = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { bottom: number } } | null } }).document;
    return Math.ceil(doc.getElementById("nodes")?.getBoundingClientRect().bottom ?? 1200) + 16;
  });
  await page.screenshot({ path: pngPath, fullPage: true, clip: { x: 0, y: 0, width: Number(values.width), height: bottomPx } });
  process.stderr.write(`screenshot: ${pngPath} (${values.width}×${bottomPx})\n`);
}
