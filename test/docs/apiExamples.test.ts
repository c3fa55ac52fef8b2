/**
 * Every ```js example in docs/API.md, run as a user would run it: a .mjs file that imports
 * "layerstream" (resolved through the package's own `exports`, so the built dist/ is what
 * runs), in a child process. An example that throws, prints a stack trace or exits non-zero fails.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../helpers/cli.js";

const DOC = path.resolve(process.cwd(), "docs/API.md");
/** inside the package, so `import … from "layerstream"` resolves to this package (self-reference) */
const RUN_DIR = path.resolve(process.cwd(), ".cache/api-examples");

function jsExamples(markdown: string): string[] {
  return [...markdown.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("docs/API.md examples", () => {
  const examples = jsExamples(fs.readFileSync(DOC, "utf8"));

  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.map((code, i) => [i + 1, code] as const))("example %i runs", async (i, code) => {
    fs.mkdirSync(RUN_DIR, { recursive: true });
    const file = path.join(RUN_DIR, `example-${i}.mjs`);
    fs.writeFileSync(file, code);
    const run = await runCommand(process.execPath, [file], {}, 60_000);
    expect(run.stderr).not.toMatch(/\n\s+at |internal error/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(0);
  });
});
