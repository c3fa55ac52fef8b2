/**
 * `layerstream serve` through the official `openai` client, against a real server process on
 * 127.0.0.1 (the built-in model): models, completions and chat, whole and streamed, the text
 * the API gives for the same request, concurrent requests, OpenAI-shaped errors and metrics.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { loadModel, type LoadedModel } from "../../src/index.js";
import { metricsOf, metricValue, postRaw, startServe, type ServeProcess } from "./serveProcess.js";

const MODEL = "TinyStories-656K-Q8_0";
const CHAT = [{ role: "user" as const, content: "Tell me a story about a dog." }];
const PROMPTS = ["Once upon a time", "The little dog", "Lily and Tom were best friends. One day, they", "The sun was"];

let server: ServeProcess;
let client: OpenAI;
let local: LoadedModel;

beforeAll(async () => {
  server = await startServe(["--parallel", "4"]);
  client = server.client();
  local = await loadModel();
  await server.ready();
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  await local?.dispose();
});

describe("serve: the OpenAI API", () => {
  it("lists its model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([[MODEL, "model", "layerstream"]]);
  });

  it("completes a prompt (/v1/completions): the API's text, usage and finish reason", async () => {
    const completion = await client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
    const expected = await local.stream("Once upon a time", { maxTokens: 16, temperature: 0 }).result;
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0].text).toBe(expected.text);
    expect(completion.choices[0].finish_reason).toBe(expected.stopReason === "max-tokens" ? "length" : "stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: expected.usage.promptTokens, completion_tokens: expected.usage.completionTokens, total_tokens: expected.usage.promptTokens + expected.usage.completionTokens });
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(0);
  });

  it("answers a chat (/v1/chat/completions) with the model's template, as model.chat() does", async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 24, temperature: 0 });
    const expected = await local.chat(CHAT, { maxTokens: 24, temperature: 0 }).result;
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0].message).toMatchObject({ role: "assistant", content: expected.text });
    expect(completion.usage?.prompt_tokens).toBe(expected.usage.promptTokens);
    expect(completion.usage?.completion_tokens).toBe(expected.usage.completionTokens);
  });

  it("streams a chat as server-sent events, with usage only when asked", async () => {
    const whole = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 24, temperature: 0 });
    const withUsage = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks[0].object).toBe("chat.completion.chunk");
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.length).toBeGreaterThan(5); // piece by piece
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(whole.choices[0].message.content);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const withoutUsage = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 24, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of withoutUsage) {
      expect(chunk.usage ?? undefined).toBeUndefined();
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe(whole.choices[0].message.content);
  });

  it("streams a completion", async () => {
    const whole = await client.completions.create({ model: MODEL, prompt: "The little dog", max_tokens: 20, temperature: 0 });
    let text = "";
    for await (const chunk of await client.completions.create({ model: MODEL, prompt: "The little dog", max_tokens: 20, temperature: 0, stream: true })) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(whole.choices[0].text);
  });

  it("honours seed, stop, top_p and the llama.cpp extras", async () => {
    const ask = () => client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 40, temperature: 0.9, top_p: 0.9, seed: 42, stop: ["."] });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0].text).toBe(b.choices[0].text);
    expect(a.choices[0].text).not.toContain(".");
    expect(a.choices[0].finish_reason).toBe("stop");
    const long = await client.completions.create({ model: MODEL, prompt: "Once", max_tokens: 300, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(long.usage?.completion_tokens).toBe(300);
  });

  it("serves concurrent requests together, each with the text it gets alone", async () => {
    const alone = [];
    for (const prompt of PROMPTS) alone.push((await client.completions.create({ prompt, model: MODEL, max_tokens: 24, temperature: 0 })).choices[0].text);
    const together = await Promise.all(
      PROMPTS.map(async (prompt) => {
        let text = "";
        for await (const chunk of await client.completions.create({ prompt, model: MODEL, max_tokens: 24, temperature: 0, stream: true })) text += chunk.choices[0]?.text ?? "";
        return text;
      }),
    );
    expect(together).toEqual(alone);
  });

  it("answers malformed JSON with a 400 in the OpenAI shape", async () => {
    const response = await postRaw(server.url, "/v1/chat/completions", '{"messages": [');
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: { message: expect.stringMatching(/JSON/), type: "invalid_request_error", param: null, code: "invalid_json" } });
  });

  it("answers malformed fields with a 400 naming the field", async () => {
    const bad = [
      [{ model: MODEL, messages: CHAT, max_tokens: "5" }, "max_tokens"],
      [{ model: MODEL, messages: [{ role: "robot", content: "hi" }] }, "messages.0.role"],
      [{ model: MODEL, messages: CHAT, temperature: 7 }, "temperature"],
      [{ model: MODEL }, "messages"],
      [{ model: MODEL, messages: CHAT, n: 2 }, "n"],
    ] as const;
    for (const [body, param] of bad) {
      const error = await client.chat.completions.create(body as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).type).toBe("invalid_request_error");
    }
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const error = await client.chat.completions.create({ model: "gpt-4o", messages: CHAT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });

  it("answers a body over the limit with 413", async () => {
    const response = await postRaw(server.url, "/v1/completions", JSON.stringify({ model: MODEL, prompt: "x".repeat(2 << 20) }));
    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: { type: "invalid_request_error", code: "request_too_large" } });
  });

  it("exports Prometheus metrics: requests, tokens, tokens/s, queue, cache, bytes read, time to first token", async () => {
    const text = await metricsOf(server.url);
    for (const name of [
      "layerstream_http_requests_total",
      "layerstream_prompt_tokens_total",
      "layerstream_completion_tokens_total",
      "layerstream_tokens_per_second",
      "layerstream_queue_depth",
      "layerstream_sequences_active",
      "layerstream_requests_in_flight",
      "layerstream_layer_cache_hits_total",
      "layerstream_layer_cache_misses_total",
      "layerstream_read_bytes_total",
      "layerstream_time_to_first_token_seconds_bucket",
      "layerstream_process_resident_memory_bytes",
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}[ {]`, "m"));
    }
    expect(metricValue(text, 'layerstream_http_requests_total{route="/v1/chat/completions",method="POST",status="404"}')).toBe(1);
    expect(metricValue(text, "layerstream_completion_tokens_total")).toBeGreaterThan(300);
    expect(metricValue(text, "layerstream_layer_cache_hits_total")).toBeGreaterThan(0);
    expect(metricValue(text, "layerstream_requests_in_flight")).toBe(0);
    expect(metricValue(text, "layerstream_model_ready")).toBe(1);
  });

  it("runs the README's openai example as written (against this server's port)", async () => {
    const readme = fs.readFileSync(path.resolve("README.md"), "utf8");
    const example = /```js\n(import OpenAI from "openai";[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-readme-"));
    try {
      fs.symlinkSync(path.resolve("node_modules"), path.join(dir, "node_modules"));
      const code = example!.replaceAll("http://127.0.0.1:8080", server.url).replaceAll('model: "stories260K"', `model: "${MODEL}"`);
      fs.writeFileSync(path.join(dir, "example.mjs"), code);
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, "example.mjs")]);
      expect(stdout.length).toBeGreaterThan(20);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
