import os from "node:os";
/**
 * `--spawn-workers N`: N `layerstream worker` processes on free loopback ports (each binds
 * tcp://127.0.0.1:* and prints the address it got). They are stopped on dispose, which the
 * generate command reaches on exit, on Ctrl-C and on error; and each child also exits when
 * its stdin (a pipe from this process) closes, so even a root killed outright leaves none.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ClusterError } from "./workerLinks.js";
import { CLUSTER_KEY_ENV, encodeKeyLine, type ClusterKey } from "../../host/clusterKey.js";

/** bin/layerstream.js, from dist/root/cluster/ or src/root/cluster/ */
const BIN = fileURLToPath(new URL("../../../bin/layerstream.js", import.meta.url));
const LISTENING = /^worker listening on (\S+),/m;

export interface LocalWorkerOptions {
  readonly modelPath: string;
  readonly maxMemory?: string;
  /** the cluster key the workers serve with (handed over in their environment); undefined: --insecure */
  readonly key: ClusterKey | undefined;
  readonly heartbeatTimeoutMs?: number;
  /** how long a worker may take to open the model and bind (default 30 s) */
  readonly startTimeoutMs?: number;
  /** how long a worker may take to exit before SIGKILL (default 5 s) */
  readonly stopTimeoutMs?: number;
}

export class LocalWorkers implements AsyncDisposable {
  private stopped = false;

  private constructor(
    private readonly children: readonly ChildProcess[],
    readonly addresses: readonly string[],
    private readonly stopTimeoutMs: number,
  ) {}

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  static async spawn(n: number, options: LocalWorkerOptions): Promise<LocalWorkers> {
    const children: ChildProcess[] = [];
    const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    try {
      const addresses = await Promise.all(
        Array.from({ length: n }, (_, k) => {
          const args = [BIN, "worker", "--model", options.modelPath, "--listen", "tcp://127.0.0.1:*", "--exit-on-stdin-close"];
          if (options.maxMemory) args.push("--max-memory", options.maxMemory);
          // local workers share this machine's cores
          args.push("--threads", String(Math.max(1, Math.floor(os.availableParallelism() / n))));
          if (options.heartbeatTimeoutMs !== undefined) args.push("--heartbeat-timeout", String(options.heartbeatTimeoutMs / 1000));
          const env: NodeJS.ProcessEnv = { ...process.env };
          if (options.key) env[CLUSTER_KEY_ENV] = encodeKeyLine(options.key);
          else args.push("--insecure");
          const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], env });
          children.push(child);
          return waitForAddress(child, k + 1, options.startTimeoutMs ?? 30_000);
        }),
      );
      return new LocalWorkers(children, addresses, stopTimeoutMs);
    } catch (error) {
      await stopAll(children, stopTimeoutMs);
      throw error;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await stopAll(this.children, this.stopTimeoutMs);
  }
}

function waitForAddress(child: ChildProcess, k: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new ClusterError("WORKER_START", `local worker ${k} ${why}${stderr.trim() ? `: ${stderr.trim().split("\n").at(-1)}` : ""}`));
    };
    const timer = setTimeout(() => fail(`did not start listening within ${timeoutMs / 1000} s`), timeoutMs);
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4096)));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("error", (error) => fail(`could not start: ${error.message}`));
    child.once("exit", (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before listening`));
  });
}

/** Closes each child's stdin and sends SIGTERM; SIGKILL after `timeoutMs`. Resolves when all have exited. */
async function stopAll(children: readonly ChildProcess[], timeoutMs: number): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.stdin?.end();
          child.kill("SIGTERM");
        }),
    ),
  );
}
