/** Runs `layerstream generate` in a child process and returns its --stats-json object. */
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

export function runGenerate(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<GenerateRunStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "generate", ...args, "--stats-json"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stderr.trim().split("\n").at(-1) ?? "";
      if (code !== 0) return reject(new Error(`layerstream generate exited ${code}: ${last}`));
      try {
        resolve(JSON.parse(last) as GenerateRunStats);
      } catch {
        reject(new Error(`no stats line in: ${last}`));
      }
    });
  });
}
