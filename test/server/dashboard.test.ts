/**
 * The dashboard at `/` in headless Chromium (Debian's /usr/bin/chromium through playwright-core),
 * on a real server whose layers run on two spawned workers: the nodes and their layer ranges,
 * the layer map, the cards, and a prompt whose reply streams in — with no request leaving the
 * server (no CDN, no fonts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium, CHROMIUM_PATH } from "../../scripts/profile/browser.js";
import { requirePrerequisite } from "../helpers/prerequisite.js";
import { modelFile } from "../helpers/paths.js";
import { startServe } from "./serveProcess.js";

const STORIES = modelFile("stories260K.gguf");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-dashboard-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// page functions are serialized and run in the browser, where `document` is; there are no DOM types here

describe("dashboard in headless Chromium", () => {
  requirePrerequisite(chromiumAvailable(), `Chromium at ${CHROMIUM_PATH}`, ".ci/run installs it: apt-get install -y chromium");

  it("shows the workers and their layers, the cards, and streams a reply to a prompt", async () => {
    await using server = await startServe(["-m", STORIES, "--spawn-workers", "2", "--assign", "contiguous"]);
    await server.ready();
    await using browser = await launchChromium();
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`${server.url}/`);

    await page.waitForSelector('#nodes tr[data-node="worker 2"]');
    const rows: string[][] = await page.evaluate(() => [...(globalThis as any).document.querySelectorAll("#nodes tr")].map((r: any) => [...r.cells].map((c: any) => c.textContent)));
    expect(rows.map((r) => r[0])).toEqual(["root (this process)", "worker 1", "worker 2"]);
    expect(rows[1][1]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect([rows[1][2], rows[2][2]]).toEqual(["0-2", "3-4"]); // 5 layers, contiguous
    expect(rows[0][8]).toMatch(/ of /); // this process's memory and budget
    expect([rows[1][8], rows[2][8]]).toEqual([expect.stringMatching(/\d.* of /), expect.stringMatching(/\d.* of /)]); // each worker's, from its STATS
    const cells: string[] = await page.evaluate(() => [...(globalThis as any).document.querySelectorAll("#layermap div")].map((d: any) => d.title));
    expect(cells).toEqual(["layer 0 · worker 1", "layer 1 · worker 1", "layer 2 · worker 1", "layer 3 · worker 2", "layer 4 · worker 2"]);
    expect(await page.textContent("#state")).toBe("ready");
    expect(await page.textContent("#model-name")).toMatch(/^stories260K · llama/);

    await page.fill("#prompt", "Tell me a story about a cat.");
    await page.click("#send");
    await page.waitForFunction(() => /tokens ·/.test((globalThis as any).document.querySelector(".msg.assistant .meta")?.textContent ?? ""), undefined, { timeout: 30_000 });
    const reply: string = await page.evaluate(() => (globalThis as any).document.querySelector(".msg.assistant").firstChild.textContent);
    expect(reply.length).toBeGreaterThan(10);
    expect(await page.textContent(".msg.user")).toBe("Tell me a story about a cat.");
    // the cards follow: tokens/s over the last seconds, the cache hit rate, the batches each worker ran
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById("tps").textContent) > 0);
    // the reply has ended: the queue card reads empty from the next poll on
    await page.waitForFunction(() => (globalThis as any).document.getElementById("queue").textContent === "0 / 0", undefined, { timeout: 10_000 });
    expect(await page.textContent("#hitrate")).toMatch(/%$/);
    await page.waitForFunction(() => Number((globalThis as any).document.querySelector('#nodes tr[data-node="worker 1"]').cells[4].textContent) > 0);

    await page.screenshot({ path: path.join(dir, "dashboard.png") });
    expect(fs.statSync(path.join(dir, "dashboard.png")).size).toBeGreaterThan(10_000);
    expect(requests.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
  });

  it("asks for the API key when the server has one", async () => {
    await using server = await startServe(["-m", STORIES, "--api-key", "k3y"]);
    await server.ready();
    await using browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector("#keyrow", { state: "visible" });
    await page.fill("#apikey", "k3y");
    await page.click("#keysave");
    await page.waitForSelector('#nodes tr[data-node="root (this process)"]');
    expect(await page.textContent("#state")).toBe("ready");
  });
});
