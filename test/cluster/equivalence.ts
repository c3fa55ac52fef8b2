/**
 * Shared body of the equivalence tests: the same greedy generation with the single-process
 * engine and through 1, 2 and 3 real workers, both assignments, wire f32 and q8_0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startWorker, statsOf, type WorkerProcess } from "./workerProcess.js";

export interface EquivalenceCase {
  readonly name: string;
  readonly modelPath: () => string;
  readonly prompt: string;
  readonly maxTokens: number;
  /** written before the workers start, if the model is generated */
  readonly prepare?: () => Promise<void>;
  /**
   * For lossy wires (q8_0, f16): undefined = token-identical; a number = the output must
   * agree with the single-process text for at least this many leading characters (a model
   * with random weights has near-tied logits, and a tie flipped by rounding changes the rest).
   */
  readonly lossyAgreementChars?: number;
}

export function describeEquivalence(c: EquivalenceCase): void {
  describe(`cluster-equivalence ${c.name}`, () => {
    const workers: WorkerProcess[] = [];
    let single: string;
    const generate = (extra: readonly string[]) =>
      runCli(["generate", "-m", c.modelPath(), "-p", c.prompt, "-n", String(c.maxTokens), "--temperature", "0", "--ignore-eos", "--stats-json", ...extra]);

    beforeAll(async () => {
      await c.prepare?.();
      workers.push(...(await Promise.all([0, 1, 2].map(() => startWorker(c.modelPath())))));
      const run = await generate([]);
      expect(run.code, run.stderr).toBe(0);
      single = run.stdout;
      expect(single.length).toBeGreaterThan(10);
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop()));
    });

    const cases: [number, string, string][] = [
      [1, "round-robin", "f32"],
      [2, "round-robin", "f32"],
      [3, "round-robin", "f32"],
      [2, "contiguous", "f32"],
      [3, "contiguous", "f32"],
      [1, "round-robin", "q8_0"],
      [2, "round-robin", "q8_0"],
      [3, "contiguous", "q8_0"],
      [2, "contiguous", "f16"],
    ];
    it.each(cases)("%i worker(s), %s, --wire %s: the same greedy tokens as one process", async (n, assign, wire) => {
      const addresses = workers.slice(0, n).map((w) => w.address);
      const run = await generate(["--workers", addresses.join(","), "--assign", assign, "--wire", wire]);
      expect(run.code, run.stderr).toBe(0);
      if (wire === "f32" || c.lossyAgreementChars === undefined) {
        expect(run.stdout).toBe(single);
      } else {
        let agree = 0;
        while (agree < single.length && run.stdout[agree] === single[agree]) agree++;
        expect(agree, `agreed on ${agree} of ${single.length} characters`).toBeGreaterThanOrEqual(Math.min(c.lossyAgreementChars, single.length));
      }
      const stats = statsOf(run.stderr);
      expect(stats).toMatchObject({ workers: n, assign, wire, workerBadFrames: 0 });
      expect(stats.hops as number).toBeGreaterThanOrEqual(n + 1);
      expect(stats.wireBytesPerToken as number).toBeGreaterThan(0);
      expect(stats.networkSeconds as number).toBeGreaterThanOrEqual(0);
      expect(run.stderr).toMatch(new RegExp(`assignment \\(session \\d+, ${assign}, wire ${wire}`));
    });
  });
}
