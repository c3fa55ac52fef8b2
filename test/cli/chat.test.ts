/**
 * `layerstream chat` as a real process: from a pipe (each line a turn, the history kept, the
 * same replies as model.chat() with that history), and on a pseudo-terminal (`script`): Ctrl-C
 * stops the reply being written and the conversation goes on, Ctrl-D quits with exit 0.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type ChatMessage, type LoadedModel } from "../../src/index.js";
import { BIN } from "../helpers/cli.js";

const GREEDY = ["-m", "stories260K", "--temperature", "0", "-n", "12"];

let model: LoadedModel;
beforeAll(async () => {
  model = await loadModel({ model: "stories260K" });
});
afterAll(async () => {
  await model?.dispose();
});

function run(command: string, args: readonly string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** What model.chat() answers after `history` (greedy, 12 tokens), as the chat command asks it. */
async function reply(history: ChatMessage[]): Promise<string> {
  return (await model.chat(history, { maxTokens: 12, temperature: 0 }).result).text;
}

describe("layerstream chat", () => {
  it("reads turns from a pipe, keeps the history and answers as model.chat() does", async () => {
    const system = "You are a storyteller.";
    const result = await run(process.execPath, [BIN, "chat", ...GREEDY, "--system", system], "Hi there\nTell me more\n/reset\nHi there\n");
    expect(result.code, result.stderr).toBe(0);
    const history: ChatMessage[] = [{ role: "system", content: system }, { role: "user", content: "Hi there" }];
    const first = await reply(history);
    history.push({ role: "assistant", content: first }, { role: "user", content: "Tell me more" });
    const second = await reply(history);
    expect(second).not.toBe(first);
    expect(result.stdout).toBe(`${first}\n${second}\n${first}\n`);
    expect(result.stderr).toMatch(/stories260K .*no chat template: ChatML/);
  });

  it("does nothing for empty input and exits 0", async () => {
    const result = await run(process.execPath, [BIN, "chat", ...GREEDY], "");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
  });

  it("on a terminal: Ctrl-C stops the reply, the conversation goes on, Ctrl-D quits", async () => {
    const command = [process.execPath, BIN, "chat", "-m", "stories260K", "--ctx-size", "8192", "-n", "8000", "--ignore-eos", "--temperature", "0"].join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (screen += s));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const until = async (test: () => boolean, what: string, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const prompts = () => screen.split("> ").length - 1;
    try {
      await until(() => prompts() >= 1, "the first prompt");
      const started = Date.now();
      child.stdin.write("Hello\r");
      await until(() => screen.includes("Hello") && screen.length > screen.lastIndexOf("Hello") + 300, "a reply being written");
      child.stdin.write("\x03"); // Ctrl-C
      await until(() => screen.includes("[stopped]") && prompts() >= 2, "the reply to stop and a new prompt");
      expect(Date.now() - started).toBeLessThan(6000); // the whole 8000-token reply takes far longer
      child.stdin.write("\x03"); // Ctrl-C at the prompt: a hint, not an exit
      await until(() => /Ctrl-D quits/.test(screen.slice(screen.lastIndexOf("[stopped]"))) && prompts() >= 3, "the hint");
      child.stdin.write("\x04"); // Ctrl-D
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
