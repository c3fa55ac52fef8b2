/**
 * The server's life: it listens before the model is loaded (503 until it is, then 200), and
 * SIGTERM finishes or cancels the work in flight, stops its workers and exits 0.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import OpenAI from "openai";
import { modelFile } from "../helpers/paths.js";
import { runCli } from "../helpers/cli.js";
import { startWorker, waitUntilGone } from "../cluster/workerProcess.js";
import { metricsOf, metricValue, startServe } from "./serveProcess.js";

const STORIES = modelFile("stories260K.gguf");
const PIDS = /started (\d+) local workers? \(pids ([\d, ]+)\)/;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

/**
 * The model file over HTTP from 127.0.0.1, held back after its first kilobyte until `release()`:
 * the server downloads (pulls) it while loading, so it stays loading exactly as long as the test wants.
 */
async function gatedModelServer(file: string): Promise<{ url: string; release(): void } & AsyncDisposable> {
  const bytes = fs.readFileSync(file);
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.length) });
    res.write(bytes.subarray(0, 1024));
    void released.then(() => res.end(bytes.subarray(1024)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/files/${path.basename(file)}`,
    release,
    async [Symbol.asyncDispose]() {
      release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("serve: loading and shutting down", () => {
  it("answers 503 while the model loads (here: downloads), with the progress on /health, then 200", async () => {
    await using source = await gatedModelServer(STORIES);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-serve-cache-"));
    try {
      await using server = await startServe(["-m", source.url], { LAYERSTREAM_MODELS: cache });
      let health = await fetch(`${server.url}/health`);
      for (let i = 0; i < 100 && !(((await health.clone().json()) as { progress?: unknown }).progress); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        health = await fetch(`${server.url}/health`);
      }
      expect(health.status).toBe(503);
      expect(health.headers.get("retry-after")).toBe("1");
      expect(await health.json()).toMatchObject({ status: "loading", progress: { phase: "download", done: 1024, total: fs.statSync(STORIES).size, unit: "bytes" } });
      const early = await server.client().chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
      expect(early).toBeInstanceOf(OpenAI.InternalServerError);
      expect((early as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect((early as InstanceType<typeof OpenAI.APIError>).code).toBe("model_loading");
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(503);
      expect(metricValue(await metricsOf(server.url), "layerstream_model_ready")).toBe(0);

      source.release();
      await server.ready();
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok", model: "stories260K" });
      const chat = await server.client().chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], max_tokens: 6 });
      expect(chat.usage?.completion_tokens).toBe(6);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });


  it("answers 503 while its worker is not up yet, then 200", async () => {
    const port = await freePort();
    await using server = await startServe(["-m", STORIES, "--workers", `tcp://127.0.0.1:${port}`]);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(health.headers.get("retry-after")).toBe("1");
    expect(await health.json()).toMatchObject({ status: "loading" });
    const client = server.client();
    const early = await client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(OpenAI.InternalServerError);
    expect((early as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((early as InstanceType<typeof OpenAI.APIError>).code).toBe("model_loading");
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(503);
    const metrics = await metricsOf(server.url);
    expect(metricValue(metrics, "layerstream_model_ready")).toBe(0);

    await using _worker = await startWorker(STORIES, ["--listen", `tcp://127.0.0.1:${port}`]);
    await server.ready();
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok", model: "stories260K" });
    const chat = await client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], max_tokens: 6 });
    expect(chat.usage?.completion_tokens).toBe(6);
  });

  it("exits 0 on SIGTERM and stops the workers it started", async () => {
    await using server = await startServe(["-m", STORIES, "--spawn-workers", "2"]);
    await server.ready();
    const pids = PIDS.exec(server.stderr())![2].split(",").map((p) => Number(p.trim()));
    expect(pids).toHaveLength(2);
    const chat = await server.client().chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], max_tokens: 6 });
    expect(chat.usage?.completion_tokens).toBe(6);
    const metrics = await metricsOf(server.url);
    const hops = metrics.split("\n").filter((line) => line.startsWith("layerstream_worker_hop_seconds{"));
    expect(hops).toHaveLength(2);
    expect(hops[0]).toMatch(/worker="tcp:\/\/127\.0\.0\.1:\d+",layers="[\d, -]+"\} 0\.\d+/);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(await waitUntilGone(pids)).toEqual([]);
    expect(server.stderr()).toMatch(/SIGTERM: shutting down[\s\S]*stopped/);
  });

  it("lets a request in flight finish on SIGTERM, and refuses new connections meanwhile", async () => {
    await using server = await startServe(["-m", STORIES, "--ctx-size", "4096", "--shutdown-grace", "30"]);
    await server.ready();
    const stream = await server.client().completions.create({ model: "stories260K", prompt: "Once", max_tokens: 1500, temperature: 0, ignore_eos: true, stream: true } as OpenAI.CompletionCreateParamsStreaming);
    const iterator = stream[Symbol.asyncIterator]();
    let text = (await iterator.next()).value?.choices[0]?.text ?? "";
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    let finish: string | null | undefined;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      text += next.value.choices[0]?.text ?? "";
      finish = next.value.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("length");
    expect(text.length).toBeGreaterThan(1000);
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/1 request in flight/);
  });

  it("cancels what is still running when the grace period ends, then exits 0", async () => {
    await using server = await startServe(["-m", STORIES, "--ctx-size", "8192", "--shutdown-grace", "0.5"]);
    await server.ready();
    const stream = await server.client().completions.create({ model: "stories260K", prompt: "Once", max_tokens: 8000, temperature: 0, ignore_eos: true, stream: true } as OpenAI.CompletionCreateParamsStreaming);
    const started = Date.now();
    const outcome = (async () => {
      let n = 0;
      try {
        for await (const _chunk of stream) {
          if (++n === 3) server.child.kill("SIGTERM");
        }
        return "finished";
      } catch (error) {
        return error instanceof OpenAI.APIError ? error.message : String(error);
      }
    })();
    expect(await outcome).toMatch(/shutting down/);
    expect(await server.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000); // not the ~8 s of the whole completion
    expect(server.stderr()).toMatch(/cancelling 1 request/);
  });

  it("exits 2 with the reason when the model cannot be loaded", async () => {
    const run = await runCli(["serve", "--port", "0", "-m", "no-such-model"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+[\s\S]*error: .*no-such-model/);
  });
});
