/**
 * The bounded queue and cancellation, on a real server with one sequence slot and no queue
 * (`--parallel 1 --max-queue 0`): a second request while one generates is a 429; a client that
 * disconnects mid-stream frees its sequence at once (the next request is served, not refused),
 * whole or streamed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { modelFile } from "../helpers/paths.js";
import { metricsOf, metricValue, startServe, type ServeProcess } from "./serveProcess.js";

const STORIES = modelFile("stories260K.gguf");
/** ~8 s of generation alone: far longer than any test waits */
const LONG = { model: "stories260K", prompt: "Once", max_tokens: 8000, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming;

let server: ServeProcess;
let client: OpenAI;

beforeAll(async () => {
  server = await startServe(["-m", STORIES, "--ctx-size", "8192", "--parallel", "1", "--max-queue", "0"]);
  client = server.client();
  await server.ready();
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
});

/** Waits until the server has no request in flight and no sequence generating. */
async function untilIdle(timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await metricsOf(server.url);
    if (metricValue(text, "layerstream_requests_in_flight") === 0 && metricValue(text, "layerstream_sequences_active") === 0) return text;
    if (Date.now() > deadline) throw new Error(`still busy after ${timeoutMs} ms:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("serve: queue and cancellation", () => {
  it("answers 429 (queue_full, Retry-After) while its one slot is generating and its queue holds none", async () => {
    const long = await client.completions.create({ ...LONG, stream: true });
    const iterator = long[Symbol.asyncIterator]();
    await iterator.next(); // generating now
    const busy = await client.completions.create({ model: "stories260K", prompt: "Hi", max_tokens: 4 }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(OpenAI.RateLimitError);
    const error = busy as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.status).toBe(429);
    expect(error.code).toBe("queue_full");
    expect(error.type).toBe("rate_limit_error");
    expect(error.headers.get("retry-after")).toBe("1");
    expect(metricValue(await metricsOf(server.url), "layerstream_sequences_active")).toBe(1);
    long.controller.abort();
    await untilIdle();
  });

  it("frees the sequence of a client that disconnects mid-stream: the next request is served", async () => {
    const cancelledBefore = metricValue(await metricsOf(server.url), 'layerstream_requests_cancelled_total{reason="disconnect"}') ?? 0;
    const long = await client.completions.create({ ...LONG, stream: true });
    let chunks = 0;
    const started = Date.now();
    for await (const _chunk of long) if (++chunks === 5) break; // leaving the loop aborts the HTTP request
    const metrics = await untilIdle();
    expect(Date.now() - started).toBeLessThan(3000); // not the ~8 s the whole completion takes
    expect(metricValue(metrics, 'layerstream_requests_cancelled_total{reason="disconnect"}')).toBe(cancelledBefore + 1);
    const next = await client.completions.create({ model: "stories260K", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    expect(next.usage?.completion_tokens).toBe(8);
  });

  it("frees it too when the request was not streamed", async () => {
    const controller = new AbortController();
    const pending = client.completions.create(LONG, { signal: controller.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 100 && metricValue(await metricsOf(server.url), "layerstream_sequences_active") !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    const metrics = await untilIdle();
    expect(metricValue(metrics, 'layerstream_requests_cancelled_total{reason="disconnect"}')).toBeGreaterThanOrEqual(2);
    const next = await client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 });
    expect(next.usage?.completion_tokens).toBe(8);
  });
});
