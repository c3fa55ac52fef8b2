/**
 * A real `layerstream serve` process on 127.0.0.1 and a free port (--port 0; the address is read
 * from its "listening on" line), and the official `openai` client pointed at it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import OpenAI from "openai";
import { BIN } from "../helpers/cli.js";

export interface ServeProcess extends AsyncDisposable {
  readonly url: string;
  readonly child: ChildProcess;
  /** everything written to stderr so far */
  stderr(): string;
  /** an `openai` client for this server (no retries, so 429 and 503 surface) */
  client(apiKey?: string): OpenAI;
  /** polls /health until 200 */
  ready(timeoutMs?: number): Promise<void>;
  /** resolves with the exit code (null when killed by a signal) */
  readonly exited: Promise<number | null>;
}

export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [process.env.SERVE_BIN ?? BIN, "serve", "--host", "127.0.0.1", "--port", "0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    child.stdout!.resume();
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)));
  });
  const server: ServeProcess = {
    url,
    child,
    exited,
    stderr: () => stderr,
    client: (apiKey = "unused") => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 }),
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const response = await fetch(`${url}/health`).catch(() => undefined);
        if (response?.status === 200) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`the server was not ready within ${timeoutMs} ms:\n${stderr}`);
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  return server;
}

/** One sample's value from Prometheus text: `series` is the name with its labels as printed, e.g. `x_total{reason="disconnect"}`. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export async function metricsOf(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

/** POSTs raw bytes (for bodies the openai client would never send). */
export async function postRaw(url: string, path: string, body: string | Uint8Array, headers: Record<string, string> = { "content-type": "application/json" }): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method: "POST", headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}
