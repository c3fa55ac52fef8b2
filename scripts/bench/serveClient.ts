/**
 * For the serving benchmarks: a real `layerstream serve` process on 127.0.0.1 (a free port), and
 * a small streaming client that times each request (time to first token, tokens per second)
 * from the server-sent events.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const BIN = path.resolve(import.meta.dirname, "../../bin/layerstream.js");

export interface ServeHandle {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  /** SIGTERM; resolves with the exit code */
  stop(): Promise<number | null>;
}

/** Starts `layerstream serve ARGS --port 0` and waits until /health answers 200. */
export async function startServe(args: readonly string[], log: (line: string) => void, readyTimeoutMs = 300_000): Promise<ServeHandle> {
  const child = spawn(process.execPath, [BIN, "serve", "--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const status = await fetch(`${url}/health`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not get ready:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log(`serve ${args.join(" ")} → ${url}`);
  return {
    url,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface TimedCompletion {
  readonly text: string;
  readonly completionTokens: number;
  /** request sent → first text piece */
  readonly ttftSeconds: number;
  /** request sent → [DONE] */
  readonly totalSeconds: number;
  /** the HTTP status when the request failed */
  readonly failedStatus?: number;
}

/** One streamed /v1/completions request, timed. */
export async function streamCompletion(url: string, body: Record<string, unknown>): Promise<TimedCompletion> {
  const start = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) {
    await response.text().catch(() => "");
    return { text: "", completionTokens: 0, ttftSeconds: 0, totalSeconds: (performance.now() - start) / 1000, failedStatus: response.status };
  }
  let text = "";
  let completionTokens = 0;
  let firstAt: number | undefined;
  for await (const data of sseData(response.body)) {
    const event = JSON.parse(data) as { choices?: { text?: string }[]; usage?: { completion_tokens: number }; error?: unknown };
    if (event.error) return { text, completionTokens, ttftSeconds: 0, totalSeconds: (performance.now() - start) / 1000, failedStatus: 500 };
    const piece = event.choices?.[0]?.text;
    if (piece) {
      firstAt ??= performance.now();
      text += piece;
    }
    if (event.usage) completionTokens = event.usage.completion_tokens;
  }
  const end = performance.now();
  return { text, completionTokens, ttftSeconds: ((firstAt ?? end) - start) / 1000, totalSeconds: (end - start) / 1000 };
}

/** The `data:` payloads of a server-sent event stream, up to [DONE]. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let at = buffer.indexOf("\n\n"); at >= 0; at = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        if (line === "data: [DONE]") return;
        yield line.slice(6);
      }
    }
  }
}

/** All requests at once: each one's timing, and tokens per second over the wall time of all. */
export async function concurrently(url: string, bodies: readonly Record<string, unknown>[]): Promise<{ results: TimedCompletion[]; wallSeconds: number; tokensPerSecond: number }> {
  const start = performance.now();
  const results = await Promise.all(bodies.map((body) => streamCompletion(url, body)));
  const wallSeconds = (performance.now() - start) / 1000;
  const tokens = results.reduce((n, r) => n + r.completionTokens, 0);
  return { results, wallSeconds, tokensPerSecond: tokens / wallSeconds };
}

/** `total` requests, at most `atOnce` in flight: each one's timing, failures, and tokens per second overall. */
export async function loadTest(url: string, body: (i: number) => Record<string, unknown>, total: number, atOnce: number): Promise<{ results: TimedCompletion[]; wallSeconds: number; tokensPerSecond: number }> {
  const results: TimedCompletion[] = [];
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    while (next < total) results.push(await streamCompletion(url, body(next++)));
  };
  await Promise.all(Array.from({ length: atOnce }, lane));
  const wallSeconds = (performance.now() - start) / 1000;
  return { results, wallSeconds, tokensPerSecond: results.reduce((n, r) => n + r.completionTokens, 0) / wallSeconds };
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
