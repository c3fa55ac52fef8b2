/**
 * Headless Chromium for the profile report (tests and the README screenshot): the Debian
 * `chromium` package driven by playwright-core, with no network features and a fresh
 * profile directory per launch.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** A browser context on a fresh user-data directory; dispose it to close and clean up. */
export async function launchChromium(): Promise<BrowserContext & AsyncDisposable> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "layerstream-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let disposed = false;
  return Object.assign(context, {
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  });
}
