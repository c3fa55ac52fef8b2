/**
 * The rules that keep the layout as docs/architecture.md draws it, checked by `npm run lint`
 * (oxlint with .oxlintrc.json) inside `npm test`. Here: the rules are really enforced — each
 * probe file breaks one rule and must be reported — and the project itself passes them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../helpers/cli.js";

const REPO = process.cwd();
const OXLINT = path.join(REPO, "node_modules/.bin/oxlint");
let probe: string;

/** A file that breaks a rule, by where it sits and what it imports or holds. */
const VIOLATIONS: Record<string, { file: string; code: string; expect: RegExp }> = {
  "the engine imports the protocol": { file: "src/engine/a.ts", code: 'import { x } from "../protocol/header.js";\nexport const y = x;\n', expect: /the engine knows nothing of the wire/ },
  "the engine imports the CLI": { file: "src/engine/model/b.ts", code: 'import { x } from "../../cli/main.js";\nexport const y = x;\n', expect: /the engine knows nothing/ },
  "the cluster client imports the worker": { file: "src/root/c.ts", code: 'import { x } from "../worker/workerNode.js";\nexport const y = x;\n', expect: /never imports the worker/ },
  "the worker imports the cluster client": { file: "src/worker/d.ts", code: 'import { x } from "../root/cluster/openCluster.js";\nexport const y = x;\n', expect: /never imports the cluster client/ },
  "telemetry imports the project": { file: "src/telemetry/e.ts", code: 'import { x } from "../engine/errors.js";\nexport const y = x;\n', expect: /telemetry is a leaf/ },
  "the protocol imports the engine's model": { file: "src/protocol/k.ts", code: 'import { x } from "../engine/model/model.js";\nexport const y = x;\n', expect: /the protocol only encodes and decodes/ },
  "the server imports the engine": { file: "src/server/l.ts", code: 'import { x } from "../engine/session.js";\nexport const y = x;\n', expect: /the server is built on the public API only/ },
  "a script imports test code": { file: "scripts/f.ts", code: 'import { x } from "../test/helpers/cli.js";\nexport const y = x;\n', expect: /scripts never import test code/ },
  "a function over 60 lines": { file: "src/g.ts", code: `export function long(): number {\n  let n = 0;\n${"  n++;\n".repeat(60)}  return n;\n}\n`, expect: /max-lines-per-function/ },
  "a file over 400 lines": { file: "src/h.ts", code: Array.from({ length: 402 }, (_, i) => `export const v${i} = ${i};`).join("\n") + "\n", expect: /max-lines\b/ },
  "an import cycle": { file: "src/i.ts", code: 'import { b } from "./j.js";\nexport const a = () => b;\n', expect: /no-cycle/ },
};

beforeAll(() => {
  probe = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-rules-"));
  fs.copyFileSync(path.join(REPO, ".oxlintrc.json"), path.join(probe, ".oxlintrc.json"));
  for (const { file, code } of Object.values(VIOLATIONS)) {
    fs.mkdirSync(path.dirname(path.join(probe, file)), { recursive: true });
    fs.writeFileSync(path.join(probe, file), code);
  }
  fs.writeFileSync(path.join(probe, "src/j.ts"), 'import { a } from "./i.js";\nexport const b = () => a;\n');
});
afterAll(() => fs.rmSync(probe, { recursive: true, force: true }));

describe("architecture rules (oxlint)", () => {
  it.each(Object.entries(VIOLATIONS))("reports %s", async (_what, { file, expect: pattern }) => {
    const run = await runCommand(OXLINT, ["-c", ".oxlintrc.json", file, ...(file === "src/i.ts" ? ["src/j.ts"] : [])], {}, 60_000, probe);
    expect(run.code, run.stdout).not.toBe(0);
    expect(run.stdout).toMatch(pattern);
  });

  it("the project passes them", async () => {
    const run = await runCommand(OXLINT, ["-c", ".oxlintrc.json", "--deny-warnings", "src", "scripts"], {}, 60_000, REPO);
    expect(run.code, run.stdout).toBe(0);
  });
});
