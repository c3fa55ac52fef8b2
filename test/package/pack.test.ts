/**
 * layerstream as an npm user gets it: `npm pack`, the tarball installed into a project outside
 * the repository (no compiler allowed: the prebuilt addon must load), then used from plain
 * JavaScript, from the CLI, and type-checked from TypeScript against the shipped declarations.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../helpers/cli.js";

const REPO = process.cwd();
const TSC = path.join(REPO, "node_modules/.bin/tsc");
const STORIES_TEXT = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
const NO_COMPILER = { CC: "/bin/false", CXX: "/bin/false", npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false" };
let work: string;
let tarball: string;
let files: string[];
let project: string;

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000) {
  return runCommand("bash", ["-c", command], env, timeoutMs, cwd);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-pack-"));
  const packed = await sh(`npm pack --silent --pack-destination "${work}"`, REPO);
  expect(packed.code, packed.stderr).toBe(0);
  tarball = path.join(work, packed.stdout.trim().split("\n").at(-1)!);
  files = (await sh(`tar tzf "${tarball}"`, work)).stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
  project = path.join(work, "consumer");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const installed = await sh(`npm install --no-save "${tarball}"`, project, NO_COMPILER);
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stderr).not.toMatch(/native kernels not built/);
}, 600_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("ships the built code, declarations, the prebuilt addon, the addon's source and the built-in models", () => {
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "bin/layerstream.js", "native/simd/prebuilds/linux-x64/node.node", "native/simd/binding.gyp", "native/simd/install.mjs", "native/simd/src/core/addon.cc", "models/TinyStories-656K-Q8_0.gguf", "models/stories260K.gguf", "models/README.md", "README.md", "LICENSE", "package.json"]) {
      expect(files, file).toContain(file);
    }
  });

  it("ships no tests, benchmarks, fixtures or TypeScript sources", () => {
    expect(files.filter((f) => /^(test|scripts|src|docs)\//.test(f) || f.endsWith(".map") || /^\.(ci|oxlintrc)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".gguf"))).toHaveLength(2);
    expect(fs.statSync(tarball).size).toBeLessThan(4 * 2 ** 20);
  });
});

describe("the installed package", () => {
  it("loads its prebuilt addon without compiling anything", async () => {
    const pkg = path.join(project, "node_modules/layerstream");
    expect(fs.existsSync(path.join(pkg, "native/simd/build"))).toBe(false);
    const run = await sh(`node --input-type=module -e 'import { loadModel } from "layerstream"; const m = await loadModel({ model: "stories260K" }); console.log((await m.stats()).kernels); await m.dispose();'`, project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^native /);
  });

  it("from plain JavaScript: complete() and stream() give the CLI's greedy text; no model → the built-in default", async () => {
    const script = `
      import { loadModel } from "layerstream";
      const model = await loadModel({ model: "stories260K" });
      const options = { maxTokens: 40, temperature: 0 };
      const completed = await model.complete("Once upon a time", options);
      let streamed = "";
      for await (const piece of model.stream("Once upon a time", options)) streamed += piece;
      await model.dispose();
      const builtin = await loadModel();
      const info = builtin.info;
      await builtin.dispose();
      console.log(JSON.stringify({ completed, streamed, name: info.name, source: info.source }));
    `;
    fs.writeFileSync(path.join(project, "use.mjs"), script);
    const run = await sh("node use.mjs", project);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    const cli = await sh(`npx layerstream generate -m stories260K -p "Once upon a time" -n 40 --temp 0`, project);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(STORIES_TEXT + "\n");
    expect(out).toEqual({ completed: STORIES_TEXT, streamed: STORIES_TEXT, name: "TinyStories-656K-Q8_0", source: "default" });
  });

  it("type-checks a TypeScript consumer with tsc --strict, and the types catch mistakes", async () => {
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2023", "esnext.disposable"], typeRoots: [path.join(REPO, "node_modules/@types")], types: ["node"], noEmit: true, skipLibCheck: false } }));
    const good = `
      import { loadModel, AbortError, type LoadedModel, type CompletionResult, type ModelStats } from "layerstream";
      export async function main(): Promise<string> {
        await using model: LoadedModel = await loadModel({ model: "stories260K", maxMemory: "1GB", threads: 1 });
        const text: string = await model.complete("Once upon a time", { maxTokens: 8, temperature: 0, stop: ["."] });
        const stream = model.stream("Hi", { signal: AbortSignal.timeout(1000) });
        for await (const piece of stream) text.concat(piece);
        const result: CompletionResult = await stream.result;
        const stats: ModelStats = await model.stats();
        const ids: number[] = model.tokenize(text);
        return model.detokenize(ids) + result.stopReason + stats.cacheHits + model.info.architecture + String(new AbortError() instanceof Error);
      }
    `;
    fs.writeFileSync(path.join(project, "good.mts"), good);
    const ok = await sh(`"${TSC}" -p . `, project);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    fs.writeFileSync(path.join(project, "bad.mts"), `import { loadModel } from "layerstream";\nconst m = await loadModel({ maxTokens: 3 });\nconst n: number = await m.complete("x");\n`);
    const bad = await sh(`"${TSC}" -p .`, project);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/maxTokens/);
    expect(bad.stdout).toMatch(/Type 'string' is not assignable to type 'number'/);
  });
});
