/**
 * The prompt cache: a finished call's sequence keeps its KV cache, so a prompt that starts with
 * its tokens evaluates only the rest — with the same text as a fresh run — and the cache never
 * holds more sequences than `parallel` makes room for.
 */
import { describe, expect, it } from "vitest";
import { loadModel } from "../../src/index.js";
import { SequenceSlots } from "../../src/api/sequenceSlots.js";
import type { LayerRunner } from "../../src/engine/model/layerRunner.js";

const greedy = { maxTokens: 24, temperature: 0 } as const;

describe("prompt cache", () => {
  it("the same prompt again reuses all but its last token, a continuation reuses the whole first call; the text is unchanged", async () => {
    await using cached = await loadModel({ parallel: 2 });
    await using fresh = await loadModel({ promptCache: false });
    const prompt = "Once upon a time, there was a little dog named Max. He liked to run in the park";
    const first = await cached.stream(prompt, greedy).result;
    expect(first.usage.cachedPromptTokens).toBe(0);
    const again = await cached.stream(prompt, greedy).result;
    expect(again.usage.cachedPromptTokens).toBe(first.usage.promptTokens - 1);
    expect(again.usage.promptTokens).toBe(first.usage.promptTokens);
    expect(again.text).toBe(first.text);

    const longer = prompt + first.text + " The end. Then";
    const continued = await cached.stream(longer, greedy).result;
    expect(continued.usage.cachedPromptTokens).toBeGreaterThanOrEqual(first.usage.promptTokens);
    const reference = await fresh.stream(longer, greedy).result;
    expect(reference.usage.cachedPromptTokens).toBe(0);
    expect(continued.text).toBe(reference.text);
  });

  it("keeps at most `capacity` sequences, running and cached together, and drops the least recently used first", async () => {
    const truncated: [number, number][] = [];
    const runner = { truncate: async (id: number, position: number) => void truncated.push([id, position]) } as unknown as LayerRunner;
    let now = 0;
    const slots = new SequenceSlots(runner, 2, 1000, () => now);
    const a = await slots.acquire([1, 2, 3], 0);
    await slots.release(a.sequenceId, [1, 2, 3, 9]);
    const b = await slots.acquire([5, 6], 0);
    await slots.release(b.sequenceId, [5, 6, 7]);
    expect(slots.cachedCount).toBe(2);
    // a new prompt that shares nothing: it needs a KV cache of its own, so one cached sequence goes (the older, a)
    const c = await slots.acquire([8], 0);
    expect(truncated).toContainEqual([a.sequenceId, 0]);
    expect(slots.cachedCount).toBe(1);
    // b's tokens start [5, 6]: reused, cut back to the shared start
    const d = await slots.acquire([5, 6, 4, 4], 0);
    expect(d).toEqual({ sequenceId: b.sequenceId, reused: [5, 6] });
    expect(truncated).toContainEqual([b.sequenceId, 2]);
    await slots.release(c.sequenceId, undefined);
    expect(truncated).toContainEqual([c.sequenceId, 0]);
    await slots.release(d.sequenceId, [5, 6, 4, 4]);
    // with two calls in flight there is no room for a cached sequence at all
    const e = await slots.acquire([7], 1);
    expect(slots.cachedCount).toBe(0);
    await slots.release(e.sequenceId, [7, 7]);
    // unused for longer than the time to live: dropped
    now = 2000;
    await slots.acquire([9], 0);
    expect(slots.cachedCount).toBe(0);
    expect(truncated).toContainEqual([e.sequenceId, 0]);
  });
});
