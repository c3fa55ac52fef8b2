/**
 * The README's first command on a fresh machine: a clone of this repository's HEAD in a
 * temporary folder with nothing beside it (no sibling "shared" folder of models, no model anywhere), `npm install`
 * there, then `npx layerstream generate --prompt "Once upon a time"` exactly as the README
 * says. npm installs from its cache where it can (`--prefer-offline`): the clone gets the same
 * packages the lockfile pins, without fetching what this machine already has.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../helpers/cli.js";

const REPO = process.cwd();
const INSTALL_TIMEOUT_MS = 12 * 60_000;
let parent: string;
let clone: string;

/** The README's first code block: its `npm install && npx layerstream generate …` line. */
function readmeMainCommand(): string {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const line = readme.split("\n").find((l) => l.startsWith("npm install && npx layerstream generate"));
  if (!line) throw new Error("README.md has no `npm install && npx layerstream generate …` line");
  return line.trim();
}

function sh(command: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}) {
  return runCommand("bash", ["-c", command], { npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", ...env }, timeoutMs);
}

describe("a fresh clone", () => {
  beforeAll(async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-fresh-"));
    clone = path.join(parent, "layerstream");
    const cloned = await sh(`git clone --quiet --no-local "${REPO}" "${clone}"`);
    expect(cloned.code, cloned.stderr).toBe(0);
  }, 120_000);
  afterAll(() => fs.rmSync(parent, { recursive: true, force: true }));

  it("has no sibling shared folder and the README's main command works in it", async () => {
    expect(fs.existsSync(path.join(parent, "shared"))).toBe(false);
    const command = readmeMainCommand();
    expect(command).toBe('npm install && npx layerstream generate --prompt "Once upon a time"');
    const run = await sh(`cd "${clone}" && ${command}`, INSTALL_TIMEOUT_MS);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(run.stderr).toMatch(/no --model given: using the built-in model TinyStories-656K-Q8_0/);
    // sampled (temperature 0.8, random seed): some text, ended by a newline
    expect(run.stdout.trim().length).toBeGreaterThan(20);
    expect(run.stdout.endsWith("\n")).toBe(true);
  }, INSTALL_TIMEOUT_MS);

  it("greedy, the clone gives llama.cpp's text", async () => {
    const run = await sh(`cd "${clone}" && npx layerstream generate --prompt "Once upon a time" --temp 0 -n 12`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(", a little girl named Lily lived in a small house. She loved to eat yummy food. One day, \n");
  });
});
