/**
 * The public API (`loadModel()` → complete / stream / tokenize / stats / dispose) on the real
 * built-in models, in this process; the same object over real local workers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, LayerstreamError, OptionError, loadModel, type LoadedModel } from "../../src/index.js";
import { isRunning } from "../cluster/workerProcess.js";

const STORIES_TEXT = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
const GREEDY = { maxTokens: 40, temperature: 0 } as const;

let dir: string;
let model: LoadedModel;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-api-"));
  model = await loadModel({ model: "stories260K" });
});
afterAll(async () => {
  await model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("loadModel", () => {
  it("complete() and stream() give llama.cpp's greedy text", async () => {
    expect(await model.complete("Once upon a time", GREEDY)).toBe(STORIES_TEXT);
    const pieces: string[] = [];
    const stream = model.stream("Once upon a time", GREEDY);
    for await (const piece of stream) pieces.push(piece);
    expect(pieces.join("")).toBe(STORIES_TEXT);
    expect(pieces.length).toBeGreaterThan(10);
    const result = await stream.result;
    expect(result).toMatchObject({ text: STORIES_TEXT, stopReason: "max-tokens", usage: { promptTokens: 5, completionTokens: 40 } });
    expect(result.timings.generatedTokensPerSecond).toBeGreaterThan(0);
  });

  it("describes the model", () => {
    expect(model.info).toMatchObject({ name: "stories260K", source: "builtin", architecture: "llama", layers: 5, embeddingSize: 64, vocabularySize: 512, quantization: "F32" });
    expect(model.info.parameters).toBe(292_800);
    expect(model.info.contextSize).toBe(2048);
  });

  it("tokenizes and detokenizes", () => {
    const ids = model.tokenize("Once upon a time");
    expect(ids.length).toBe(4);
    expect(model.tokenize("Once upon a time", { addBos: true })).toEqual([1, ...ids]);
    expect(model.detokenize(ids)).toBe("Once upon a time");
  });

  it("stops before a stop string, even one split over tokens", async () => {
    const text = await model.complete("Once upon a time", { ...GREEDY, stop: ["named Li"] });
    expect(text).toBe(", there was a little girl ");
    const stream = model.stream("Once upon a time", { ...GREEDY, stop: "park" });
    for await (const piece of stream) expect(piece).not.toContain("park");
    expect((await stream.result).stopReason).toBe("stop");
  });

  it("runs two calls at once one after the other, neither disturbing the other", async () => {
    const [a, b, c] = await Promise.all([
      model.complete("Once upon a time", GREEDY),
      model.complete("Once upon a time", { maxTokens: 30, temperature: 1, seed: 3 }),
      model.complete("Once upon a time", GREEDY),
    ]);
    expect(a).toBe(STORIES_TEXT);
    expect(c).toBe(STORIES_TEXT);
    expect(b).toBe(await model.complete("Once upon a time", { maxTokens: 30, temperature: 1, seed: 3 }));
  });

  it("an aborted call rejects with AbortError within a token, and the model stays usable", async () => {
    const controller = new AbortController();
    const stream = model.stream("Once upon a time", { maxTokens: 100_000, ignoreEos: true, temperature: 0, signal: controller.signal });
    let pieces = 0;
    const consumed = (async () => {
      for await (const _ of stream) if (++pieces === 5) controller.abort();
    })();
    await expect(consumed).rejects.toBeInstanceOf(AbortError);
    await expect(stream.result).rejects.toMatchObject({ name: "AbortError", code: "ABORTED" });
    expect(pieces).toBeLessThan(10);
    await expect(model.complete("x", { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(await model.complete("Once upon a time", GREEDY)).toBe(STORIES_TEXT);
  });

  it("leaving a for-await early stops generation; the model stays usable", async () => {
    const stream = model.stream("Once upon a time", { maxTokens: 100_000, ignoreEos: true, temperature: 0 });
    for await (const _ of stream) break;
    expect((await stream.result).stopReason).toBe("aborted");
    expect(await model.complete("Once upon a time", GREEDY)).toBe(STORIES_TEXT);
  });

  it("counts what it did", async () => {
    const stats = await model.stats();
    expect(stats.completions).toBeGreaterThan(3);
    expect(stats.generatedTokens).toBeGreaterThan(100);
    expect(stats.cacheHits).toBeGreaterThan(0);
    expect(stats.cacheMisses).toBe(0);
    expect(stats.kernels).toMatch(/native|typescript/);
  });
});

describe("chat", () => {
  it("renders with the model's template (ChatML when it has none) and completes", async () => {
    const messages = [
      { role: "system" as const, content: "You tell stories." },
      { role: "user" as const, content: "Once upon a time" },
    ];
    expect(model.info.chatTemplate).toBeUndefined();
    expect(model.formatChat(messages)).toBe("<|im_start|>system\nYou tell stories.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n");
    const stream = model.chat(messages, { maxTokens: 8, temperature: 0 });
    let text = "";
    for await (const piece of stream) text += piece;
    const result = await stream.result;
    expect(result.text).toBe(text);
    expect(result.usage.completionTokens).toBe(8);
    // the same as completing the rendered prompt (BOS once)
    expect(text).toBe(await model.complete(model.formatChat(messages), { maxTokens: 8, temperature: 0 }));
  });

  it("a template error is typed, on the result", async () => {
    await expect(model.chat([{ role: "user", content: [{ type: "image_url" } as never] }]).result).rejects.toMatchObject({ name: "ChatTemplateError" });
  });
});

describe("loadModel: bad input is a typed error", () => {
  it("an unknown option names it", async () => {
    await expect(loadModel({ modle: "x" } as never)).rejects.toThrow(/unknown loadModel option "modle"/);
    await expect(loadModel({ modle: "x" } as never)).rejects.toBeInstanceOf(OptionError);
    await expect(model.complete("x", { maxTokenz: 3 } as never)).rejects.toThrow(/unknown completion option "maxTokenz"/);
    await expect(loadModel({ maxMemory: "lots" })).rejects.toThrow(/option "maxMemory" must be/);
  });

  it("a file that is not GGUF", async () => {
    const file = path.join(dir, "notes.gguf");
    fs.writeFileSync(file, "not a model\n".repeat(10));
    const error = await loadModel({ model: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LayerstreamError);
    expect((error as LayerstreamError).code).toBe("BAD_MAGIC");
  });

  it("a disposed model refuses work", async () => {
    const other = await loadModel({ model: "stories260K" });
    await other.dispose();
    await other.dispose();
    await expect(other.complete("x")).rejects.toMatchObject({ code: "DISPOSED" });
  });
});

describe("loadModel with no model: the built-in default", () => {
  it("loads TinyStories-656K Q8_0", async () => {
    await using tiny = await loadModel();
    expect(tiny.info).toMatchObject({ name: "TinyStories-656K-Q8_0", source: "default", quantization: "Q8_0", layers: 2 });
    expect(await tiny.complete("Once upon a time", { maxTokens: 8, temperature: 0 })).toBe(", a little girl named Lily lived in a small house. She loved to ");
    // flash attention is the default (llama.cpp's too); the classic path gives llama.cpp -fa off's tokens
    await using classic = await loadModel({ flashAttention: false });
    expect(await classic.complete("Once upon a time", { maxTokens: 8, temperature: 0 })).toBe(", a little girl named Lily lived in a small house with her mom");
  });
});

describe("loadModel with local workers", () => {
  it("the same object runs the layers on 2 worker processes, and disposing stops them", async () => {
    const lines: string[] = [];
    const clustered = await loadModel({ model: "stories260K", workers: 2, wire: "f32", log: (line) => lines.push(line) });
    expect(clustered.info.runner).toMatch(/cluster of 2 workers/);
    expect(await clustered.complete("Once upon a time", GREEDY)).toBe(STORIES_TEXT);
    const stats = await clustered.stats();
    expect(stats.cluster).toMatchObject({ workers: 2, wire: "f32" });
    const pids = lines.flatMap((line) => [...line.matchAll(/pids ([\d, ]+)\)/g)]).flatMap((m) => m[1].split(",").map(Number));
    expect(pids).toHaveLength(2);
    await clustered.dispose();
    expect(pids.filter(isRunning)).toEqual([]);
  });
});
