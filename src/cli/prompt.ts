/** The prompt of `generate`: `-p TEXT`, `-p -` (stdin) or `-f FILE`, exactly one of them. */
import fs from "node:fs/promises";
import { OptionError } from "../engine/errors.js";

export async function readPrompt(flags: { prompt?: string; file?: string }, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (flags.prompt !== undefined && flags.file !== undefined) throw new OptionError("BAD_PROMPT", "give the prompt with either -p/--prompt or -f/--file, not both");
  if (flags.file !== undefined) return readPromptFile(flags.file);
  if (flags.prompt === "-") return readAll(stdin);
  if (flags.prompt === undefined) throw new OptionError("NO_PROMPT", "no prompt: give -p TEXT, -p - (read stdin) or -f FILE");
  return flags.prompt;
}

async function readPromptFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new OptionError("BAD_PROMPT_FILE", `cannot read the prompt file ${file}: ${why}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
