/**
 * npx tsx scripts/dashboard/screenshot.ts [--model NAME] [--spawn-workers N] [--prompt TEXT] [--out docs/dashboard.png]
 *
 * Starts the server (the built-in stories260K over two local workers by default), opens the dashboard
 * in headless Chromium, sends a prompt, waits for the reply to stream in and the cards to
 * update, and saves a PNG of the page, as in docs/dashboard.png.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "../../src/server/server.js";
import { launchChromium } from "../profile/browser.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "stories260K" },
    "spawn-workers": { type: "string", default: "2" },
    prompt: { type: "string", default: "Tell me a story about a little cat." },
    out: { type: "string", default: path.resolve(import.meta.dirname, "../../docs/dashboard.png") },
  },
});
const log = (line: string) => process.stderr.write(`screenshot: ${line}\n`);
const workers = Number(values["spawn-workers"]);
const server = await startServer({ host: "127.0.0.1", port: 0, load: { model: values.model, workers: workers > 0 ? workers : undefined, assign: "contiguous", parallel: 4, log } });
try {
  if (!(await server.loaded)) throw server.context.slot.error;
  await using browser = await launchChromium();
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#nodes tr[data-node="root (this process)"]');
  await page.fill("#prompt", values.prompt);
  await page.click("#send");
  // the function runs in the browser (serialized), where `document` is; there are no DOM types here
  await page.waitForFunction(() => /tokens ·/.test((globalThis as any).document.querySelector(".msg.assistant .meta")?.textContent ?? ""), undefined, { timeout: 60_000 });
  await page.waitForTimeout(1500); // a poll or two: the cards show the reply's tokens/s
  await page.screenshot({ path: values.out, fullPage: true });
  log(`${values.out}`);
} finally {
  await server.close(0);
}
