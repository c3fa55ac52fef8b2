/**
 * Continuous batching through the API: concurrent calls share forward passes (each layer run
 * once per pass for all of them), join and leave between passes, and each gets exactly the text
 * it gets alone (the built-in Q8_0 model: its kernels give the same bits whatever the number of
 * rows). The queue beyond `parallel` is bounded.
 */
import { describe, expect, it } from "vitest";
import { AbortError, loadModel, QueueFullError } from "../../src/index.js";

const PROMPTS = ["Once upon a time", "The little dog", "Lily and Tom were best friends. One day, they", "The sun was"];
const GREEDY = { maxTokens: 24, temperature: 0, ignoreEos: true } as const;

describe("continuous batching", () => {
  it("runs concurrent calls in shared passes, each with the text it gets alone", async () => {
    const alone: string[] = [];
    let aloneLayerRuns: number;
    {
      await using model = await loadModel();
      for (const prompt of PROMPTS) alone.push(await model.complete(prompt, GREEDY));
      aloneLayerRuns = (await model.stats()).cacheHits;
    }
    await using model = await loadModel({ parallel: 4 });
    const together = await Promise.all(PROMPTS.map((prompt) => model.complete(prompt, GREEDY)));
    expect(together).toEqual(alone);
    const stats = await model.stats();
    // every layer ran once per pass for all four: about a quarter of the layer runs
    expect(stats.cacheHits).toBeLessThan(aloneLayerRuns / 2);
    expect(stats.completions).toBe(4);
  });

  it("batches through workers the same way: several sequences per message", async () => {
    const alone: string[] = [];
    {
      await using model = await loadModel();
      for (const prompt of PROMPTS) alone.push(await model.complete(prompt, GREEDY));
    }
    await using clustered = await loadModel({ parallel: 4, workers: 2, wire: "f32" });
    expect(await Promise.all(PROMPTS.map((prompt) => clustered.complete(prompt, GREEDY)))).toEqual(alone);
    const { cluster } = await clustered.stats();
    // two lanes (one per pipeline stage, so both workers stay busy), each carrying its two
    // sequences in one message per pass: half the messages of one per sequence per pass per worker
    expect(cluster!.perWorker.reduce((n, w) => n + w.batches, 0)).toBeLessThanOrEqual(2 * 24 * 2);
    expect(cluster!.perWorker.reduce((n, w) => n + w.batches, 0)).toBeLessThan(4 * 24 * 2);
  });

  it("lets a call join while others are generating, and one leave early", async () => {
    await using model = await loadModel({ parallel: 3 });
    const expected = await model.complete("The sun was", GREEDY);
    const long = model.stream("Once upon a time", { maxTokens: 200, temperature: 0, ignoreEos: true });
    const pieces: string[] = [];
    const reading = (async () => {
      for await (const piece of long) if (pieces.push(piece) === 40) break; // leaves early
    })();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const joined = await model.complete("The sun was", GREEDY);
    await reading;
    expect(joined).toBe(expected);
    expect((await long.result).stopReason).toBe("aborted");
    expect(model.load).toEqual({ active: 0, waiting: 0 });
  });

  it("queues calls beyond `parallel` up to maxQueue, then refuses with QueueFullError", async () => {
    await using model = await loadModel({ parallel: 1, maxQueue: 1 });
    const first = model.complete("Once upon a time", { maxTokens: 50, ignoreEos: true });
    const second = model.complete("The little dog", { maxTokens: 5 });
    const third = model.complete("The sun", { maxTokens: 5 });
    await expect(third).rejects.toBeInstanceOf(QueueFullError);
    await expect(third).rejects.toMatchObject({ code: "QUEUE_FULL" });
    expect((await first).length).toBeGreaterThan(0);
    expect((await second).length).toBeGreaterThan(0);
  });

  it("a waiting call that is aborted leaves the queue at once: its slot goes to the next call", async () => {
    await using model = await loadModel({ parallel: 1, maxQueue: 1 });
    const first = model.complete("Once upon a time", { maxTokens: 400, ignoreEos: true, temperature: 0 });
    const controller = new AbortController();
    const waiting = model.complete("The dog", { maxTokens: 4, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    const next = model.complete("The cat", { maxTokens: 4, temperature: 0 });
    await expect(Promise.all([first, next])).resolves.toHaveLength(2);
  });

  it("disposing ends running and waiting calls with DISPOSED", async () => {
    const model = await loadModel({ parallel: 1 });
    const running = model.complete("Once upon a time", { maxTokens: 100_000, ignoreEos: true, temperature: 0 }).catch((e: unknown) => e);
    const waiting = model.complete("The little dog", { maxTokens: 5 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await model.dispose();
    expect(await running).toMatchObject({ code: "DISPOSED" });
    expect(await waiting).toMatchObject({ code: "DISPOSED" });
  });
});
