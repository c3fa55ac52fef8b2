/** Real `layerstream worker` processes for cluster tests (each binds a free loopback port). */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { BIN } from "../helpers/cli.js";

export interface WorkerProcess extends AsyncDisposable {
  readonly address: string;
  readonly pid: number;
  /** everything the worker wrote to stderr so far */
  stderr(): string;
  stop(): Promise<number | null>;
}

export function startWorker(modelPath: string, extraArgs: readonly string[] = [], timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, "worker", "--model", modelPath, "--listen", "tcp://127.0.0.1:*", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${stderr}`)), timeoutMs);
    void exited.then((code) => reject(new Error(`worker exited with ${code} before listening: ${stderr}`)));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const match = /^worker listening on (\S+),/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        return exited;
      };
      resolve({ address: match[1], pid: child.pid!, stderr: () => stderr, stop, [Symbol.asyncDispose]: async () => void (await stop()) });
    });
  });
}

/** False once the process is gone (or a zombie nobody has reaped yet). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export async function waitUntilGone(pids: readonly number[], timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(isRunning);
  }
  return alive;
}

/** The JSON object `--stats-json` prints as the last stderr line. */
export function statsOf(stderr: string): Record<string, unknown> {
  return JSON.parse(stderr.trim().split("\n").at(-1)!) as Record<string, unknown>;
}
