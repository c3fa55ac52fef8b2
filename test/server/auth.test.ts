/** `--api-key` (or LAYERSTREAM_API_KEY): /v1 and the dashboard's data need the key; /health, /metrics and the page do not. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { startServe, type ServeProcess } from "./serveProcess.js";

let server: ServeProcess;

beforeAll(async () => {
  server = await startServe(["-m", "stories260K", "--api-key", "s3cret-key"]);
  await server.ready();
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
});

describe("serve --api-key", () => {
  it("answers a wrong key with 401 invalid_api_key, and no key with 401 missing_api_key", async () => {
    const wrong = await server.client("not-the-key").models.list().catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrong as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
    const none = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }) });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { type: "authentication_error", code: "missing_api_key" } });
    expect((await fetch(`${server.url}/dashboard/status`)).status).toBe(401);
  });

  it("serves the right key", async () => {
    const client = server.client("s3cret-key");
    expect((await client.models.list()).data[0].id).toBe("stories260K");
    const chat = await client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], max_tokens: 5 });
    expect(chat.usage?.completion_tokens).toBe(5);
    expect((await fetch(`${server.url}/dashboard/status`, { headers: { authorization: "Bearer s3cret-key" } })).status).toBe(200);
  });

  it("leaves /health, /metrics and the dashboard page open", async () => {
    for (const path of ["/health", "/metrics", "/"]) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
  });

  it("takes the key from LAYERSTREAM_API_KEY too", async () => {
    await using other = await startServe(["-m", "stories260K"], { LAYERSTREAM_API_KEY: "from-env" });
    await other.ready();
    expect((await fetch(`${other.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${other.url}/v1/models`, { headers: { authorization: "Bearer from-env" } })).status).toBe(200);
  });
});
