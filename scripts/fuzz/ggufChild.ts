/**
 * A child process of `npm run fuzz` that runs GGUF mutations [from, to) through every entry
 * point and reports each iteration over IPC as it starts and as it ends, so the parent can tell
 * a crash of the whole process (SIGBUS, an abort in native code) or a hang from the iteration
 * that caused it, and go on from the next one. Iteration i is reproducible on its own: its
 * random stream depends only on (seed, i).
 */
import fs from "node:fs";
import path from "node:path";
import { seededRandom } from "../../src/engine/gguf/syntheticModel.js";
import { selectBackend } from "../../src/engine/backend/selectBackend.js";
import { ggufLayout, mutateGguf, randomInt } from "./ggufMutations.js";
import { runGgufTargets, type GgufTarget, type Outcome } from "./ggufTargets.js";

export interface ChildStart {
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  readonly seeds: readonly string[];
  readonly workDir: string;
  /** epoch ms: no iteration starts after it */
  readonly deadlineMs: number;
}

export type ChildMessage =
  | { readonly type: "start"; readonly i: number }
  | { readonly type: "done"; readonly i: number; readonly mutations: readonly string[]; readonly outcomes: Record<GgufTarget, Outcome>; readonly maxRssBytes: number }
  | { readonly type: "finished" };

/** A well-mixed 32-bit seed for iteration i. */
export function iterationSeed(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

async function runChild(start: ChildStart): Promise<void> {
  const { backend } = selectBackend({ threads: 1 });
  const seeds = start.seeds.map((file) => new Uint8Array(fs.readFileSync(file)));
  const layouts = seeds.map((bytes) => ggufLayout(bytes));
  const file = path.join(start.workDir, `mutant-${process.pid}.gguf`);
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));
  for (let i = start.from; i < start.to && Date.now() < start.deadlineMs; i++) {
    await send({ type: "start", i });
    const random = seededRandom(iterationSeed(start.seed, i));
    const which = randomInt(random, seeds.length);
    const mutations: string[] = [];
    const bytes = mutateGguf(seeds[which], layouts[which], random, mutations);
    const outcomes = await runGgufTargets(bytes, file, backend, i);
    await send({ type: "done", i, mutations: [path.basename(start.seeds[which]), ...mutations], outcomes, maxRssBytes: process.resourceUsage().maxRSS * 1024 });
  }
  fs.rmSync(file, { force: true });
  await send({ type: "finished" });
}

process.once("message", (start: ChildStart) => {
  runChild(start).then(
    () => process.disconnect(),
    (error: unknown) => {
      process.stderr.write(`fuzz child failed outside the targets: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(3);
    },
  );
});
