/**
 * `npm run profile` end to end on a real run: a synthetic model, two real worker processes
 * (--spawn-workers 2) over ZeroMQ, the script as a user runs it; then the HTML report in
 * headless Chromium (which must be installed: .ci/run installs it).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { BLOCK_OPS } from "../../src/telemetry/records.js";
import type { ProfileRun } from "../../src/profile/profileRun.js";
import { chromiumAvailable, launchChromium, CHROMIUM_PATH } from "../../scripts/profile/browser.js";
import { runCommand, type CliResult } from "../helpers/cli.js";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";
import { readReportDom } from "./reportDom.js";
import { requirePrerequisite } from "../helpers/prerequisite.js";

const SCRIPT = path.resolve(process.cwd(), "scripts/profile/index.ts");
const N_LAYER = 6;
const MAX_TOKENS = 4;

function runProfile(args: readonly string[]): Promise<CliResult> {
  return runCommand(process.execPath, ["--import", "tsx", SCRIPT, ...args], {}, 120_000);
}

const haveChromium = chromiumAvailable();
const CHROMIUM_HOW = ".ci/run installs it: apt-get install -y chromium";

describe("npm run profile on a real 2-worker run", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-profile-"));
  const modelPath = path.join(dir, "synthetic-q8_0.gguf");
  const reportPath = path.join(dir, "profile.html");
  let result: CliResult;
  let run: ProfileRun;

  beforeAll(async () => {
    await writeSyntheticModel(modelPath, { nEmbd: 64, nLayer: N_LAYER, nHead: 4, nHeadKv: 2, nFf: 160, nVocab: 320, weightType: GgmlType.Q8_0, seed: 11 });
    result = await runProfile(["--model", modelPath, "--prompt", "once upon a time", "--max-tokens", String(MAX_TOKENS), "--ignore-eos", "--temperature", "0", "--spawn-workers", "2", "--assign", "round-robin", "--out", reportPath, "--json"]);
    expect(result.stderr).not.toContain("internal error");
    expect(result.code).toBe(0);
    run = JSON.parse(result.stdout) as ProfileRun;
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints the ProfileRun as one JSON document on stdout and the table on stderr", () => {
    expect(run.version).toBe(1);
    expect(run.model.nLayer).toBe(N_LAYER);
    expect(run.passes.length).toBe(1 + MAX_TOKENS - 1);
    expect(run.nodes.map((n) => n.node).sort()).toEqual([-1, 0, 1]);
    for (const pass of run.passes) {
      expect(pass.hops.flatMap((hop) => hop.layers.map((l) => l.layer)).sort((a, b) => a - b)).toEqual([...Array(N_LAYER).keys()]);
    }
    expect(result.stderr).toMatch(/^profile: \d+ passes \(1 prompt of \d+ tokens, \d+ decode\)/m);
    expect(result.stderr).toMatch(/^Bottlenecks\n {2}1\. \d+% of time is /m);
    expect(result.stderr).toContain("profile: report written to");
  });

  it("renders lanes for the root and both workers, their bars and a bar per layer in Chromium", async () => {
    requirePrerequisite(haveChromium, `Chromium at ${CHROMIUM_PATH}`, CHROMIUM_HOW);
    await using browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`file://${reportPath}`);
    const dom = await readReportDom(page);
    expect(dom.laneNames).toEqual(["root", "worker 1", "worker 2"]);
    for (const node of [0, 1]) {
      const layerRuns = run.passes.flatMap((p) => p.hops).filter((h) => h.node === node).reduce((sum, h) => sum + h.layers.length, 0);
      expect(layerRuns).toBeGreaterThan(0);
      expect(dom.barCounts[`${node}/compute`]).toBe(layerRuns);
      expect(dom.barCounts[`${node}/network`]).toBe(run.passes.filter((p) => p.networkMs > 0).length * run.passes[0].hops.filter((h) => h.node === node).length);
    }
    expect(dom.barCounts["-1/outputHead"]).toBe(run.passes.length);
    expect(dom.passBoundaries).toBe(run.passes.length);
    expect(dom.layerLabels).toEqual([...Array(N_LAYER).keys()].map((l) => `layer ${l} · worker ${(l % 2) + 1}`));
    for (let l = 0; l < N_LAYER; l++) expect(BLOCK_OPS.some((op) => dom.layerSegmentWidths[`${l}/${op}`] > 0)).toBe(true);
    expect(dom.bottlenecks.length).toBeGreaterThan(0);
    expect(dom.nodeRows).toBe(3);
  });

  it("refuses bad flags and a missing model with one line and exit code 2", async () => {
    const missing = await runProfile(["--model", path.join(dir, "nope.gguf"), "--prompt", "x"]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    const badFlag = await runProfile(["--model", modelPath, "--prompt", "x", "--max-tokens", "-3"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr.trim().split("\n")).toHaveLength(1);
  });
});
