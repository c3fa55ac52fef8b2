/** Runs the built `layerstream` command as a user would (node bin/layerstream.js …). */
import { spawn } from "node:child_process";
import path from "node:path";

export const BIN = path.resolve(process.cwd(), "bin/layerstream.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], env, timeoutMs);
}

/** Runs any command (e.g. `ip netns exec … node bin/layerstream.js …`), killed after timeoutMs. */
export function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
