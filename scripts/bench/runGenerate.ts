/** Runs `layerstream generate` (or another entry point taking its flags) in a child process and returns its --stats-json object. */
import { spawn } from "node:child_process";
import path from "node:path";

const BIN = path.resolve(import.meta.dirname, "../../bin/layerstream.js");

export interface GenerateRunStats {
  promptTokens: number;
  promptSeconds: number;
  generatedTokens: number;
  generateSeconds: number;
  generatedTokensPerSecond: number;
  promptTokensPerSecond: number;
  peakRssBytes: number;
  budgetBytes: number;
  cacheHits: number;
  cacheMisses: number;
  bytesRead: number;
  ioWaitSeconds: number;
  readBusySeconds?: number;
  computeSeconds: number;
  [key: string]: unknown;
}

/**
 * The compiled `layerstream generate`, generated text discarded.
 * @param bin another build's bin/layerstream.js (a baseline checkout), default this one's
 */
export function runGenerate(args: readonly string[], env: NodeJS.ProcessEnv = {}, bin: string = BIN): Promise<GenerateRunStats> {
  return runStats([bin, "generate", ...args], { env, label: `layerstream generate (${bin})` });
}

/**
 * `node <nodeArgv> --stats-json` in a child process: the stats are the last JSON line on stderr.
 * @param options.pipeStdout read stdout through a pipe (and drop it) instead of discarding it at the source
 * @param options.label names the run in errors
 */
export function runStats(nodeArgv: readonly string[], options: { env?: NodeJS.ProcessEnv; pipeStdout?: boolean; label?: string } = {}): Promise<GenerateRunStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgv, "--stats-json"], {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.pipeStdout ? "pipe" : "ignore", "pipe"],
    });
    child.stdout?.resume();
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = stderr.trim().split("\n");
      if (code !== 0) return reject(new Error(`${options.label ?? nodeArgv.join(" ")} exited ${code}: ${lines.at(-1)}`));
      const line = [...lines].reverse().find((l) => l.startsWith("{"));
      try {
        resolve(JSON.parse(line ?? "") as GenerateRunStats);
      } catch {
        reject(new Error(`no stats line in: ${lines.at(-1)}`));
      }
    });
  });
}
