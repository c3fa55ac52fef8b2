/**
 * `layerstream chat`: an interactive conversation in the terminal, on `model.chat()` with the
 * model's own template (ChatML when it has none). The history is kept (the oldest turns are
 * dropped when it no longer fits the context). On a terminal: Ctrl-C stops the reply being
 * written, Ctrl-D quits. From a pipe, each line is a user message and each reply is written
 * followed by a newline; end of input quits.
 */
import readline from "node:readline";
import { Command } from "commander";
import { loadModel } from "../../api/loadModel.js";
import type { LoadedModel } from "../../api/loadedModel.js";
import type { ChatMessage } from "../../engine/chat/types.js";
import { AbortError } from "../../engine/errors.js";
import { DEFAULT_SAMPLER_OPTIONS } from "../../engine/sampling/options.js";
import { parseFloatInRange, parseIntInRange } from "../options.js";
import type { CliIo } from "../io.js";
import { addModelOptions, loadOptionsOf, type ServeFlags } from "./serve.js";
import type { ClusterCliFlags } from "../clusterOptions.js";

export interface ChatFlags extends Pick<ServeFlags, "model" | "threads" | "ctxSize" | "kvType" | "flashAttn" | "repack" | "maxMemory" | "prefetch" | "keepPageCache" | keyof ClusterCliFlags> {
  system?: string;
  maxTokens?: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  seed?: number;
  ignoreEos: boolean;
}

const D = DEFAULT_SAMPLER_OPTIONS;
const HELP = "type a message and press Enter; Ctrl-C stops a reply, Ctrl-D quits; /reset forgets the conversation";

export function chatCommand(io: CliIo): Command {
  return addModelOptions(new Command("chat").description("chat with a model in the terminal (lines from a pipe work too)"))
    .option("-s, --system <text>", "a system message opening the conversation")
    .option("-n, --max-tokens <n>", "most tokens per reply (default: until the model ends its reply or the context is full)", parseIntInRange(1))
    .option("--temperature <t>", "sampling temperature; 0 = greedy", parseFloatInRange(0), D.temperature)
    .option("--top-k <k>", "keep the k most likely tokens; 0 = off", parseIntInRange(0), D.topK)
    .option("--top-p <p>", "nucleus sampling threshold; 1 = off", parseFloatInRange(0, 1, { minExclusive: true }), D.topP)
    .option("--min-p <p>", "drop tokens below p × the top probability; 0 = off", parseFloatInRange(0, 1), D.minP)
    .option("--repeat-penalty <r>", "penalty for recently seen tokens; 1 = off", parseFloatInRange(0, Infinity, { minExclusive: true }), D.repeatPenalty)
    .option("--seed <s>", "random seed of the first reply (later replies use the following seeds)", parseIntInRange(0, 2 ** 32 - 1))
    .option("--ignore-eos", "keep generating after end-of-sequence tokens", false)
    .action(async (flags: ChatFlags) => {
      await runChat(flags, io);
    });
}

export async function runChat(flags: ChatFlags, io: CliIo): Promise<void> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  await using model = await loadModel({ ...loadOptionsOf(flags), signal: io.signal, log: (line) => io.progress(line) });
  const { info } = model;
  io.progress(`${info.name} (${info.architecture}, ${info.layers} layers, ${info.quantization}, ctx ${info.contextSize}${info.chatTemplate ? "" : ", no chat template: ChatML"}) — ${HELP}`);
  const conversation = new Conversation(model, flags);
  const input = readline.createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: "> " });
  let reply: AbortController | undefined;
  const onInterrupt = () => input.close(); // Ctrl-C from outside a terminal (a signal): stop reading
  io.signal?.addEventListener("abort", onInterrupt, { once: true });
  input.on("SIGINT", () => {
    if (reply) return reply.abort();
    input.write("", { ctrl: true, name: "u" }); // clear the line, as a shell does
    io.writeOut(`\n(${HELP})\n`);
    input.prompt();
  });
  try {
    if (tty) input.prompt();
    for await (const line of input) {
      if (io.signal?.aborted) break;
      const text = line.trim();
      if (text === "/quit" || text === "/exit") break;
      if (text === "/reset") conversation.reset();
      else if (text !== "") {
        reply = new AbortController();
        await conversation.answer(text, reply.signal, io, tty);
        reply = undefined;
      }
      if (io.signal?.aborted) break;
      if (tty) input.prompt();
    }
  } finally {
    io.signal?.removeEventListener("abort", onInterrupt);
    input.close();
    if (tty) io.writeOut("\n");
  }
}

/** The history, and one reply at a time written to stdout as it is generated. */
class Conversation {
  private readonly history: ChatMessage[] = [];
  private replies = 0;

  constructor(
    private readonly model: LoadedModel,
    private readonly flags: ChatFlags,
  ) {
    this.reset();
  }

  reset(): void {
    this.history.length = 0;
    if (this.flags.system) this.history.push({ role: "system", content: this.flags.system });
  }

  /** Streams the reply to `text`; Ctrl-C (`stop`) or the CLI's signal ends it early, keeping what was written. */
  async answer(text: string, stop: AbortSignal, io: CliIo, tty: boolean): Promise<void> {
    this.history.push({ role: "user", content: text });
    this.fitContext();
    const { flags } = this;
    const signal = io.signal ? AbortSignal.any([stop, io.signal]) : stop;
    const stream = this.model.chat(this.history, {
      maxTokens: flags.maxTokens ?? this.model.info.contextSize,
      temperature: flags.temperature,
      topK: flags.topK,
      topP: flags.topP,
      minP: flags.minP,
      repeatPenalty: flags.repeatPenalty,
      seed: flags.seed === undefined ? undefined : (flags.seed + this.replies++) % 2 ** 32,
      ignoreEos: flags.ignoreEos,
      signal,
    });
    let reply = "";
    try {
      for await (const piece of stream) {
        reply += piece;
        io.writeOut(piece);
      }
      await stream.result;
    } catch (error) {
      if (!(error instanceof AbortError)) throw error;
      if (tty && !io.signal?.aborted) io.writeOut(" [stopped]");
    } finally {
      io.writeOut("\n");
    }
    this.history.push({ role: "assistant", content: reply });
  }

  /** Drops the oldest turns (never the system message or the new one) until the prompt leaves room for a reply. */
  private fitContext(): void {
    const { contextSize } = this.model.info;
    const room = Math.min(this.flags.maxTokens ?? 256, Math.floor(contextSize / 2));
    const first = this.history[0]?.role === "system" ? 1 : 0;
    while (this.history.length - first > 1 && this.promptTokens() + room > contextSize) this.history.splice(first, 1);
  }

  private promptTokens(): number {
    return this.model.tokenize(this.model.formatChat(this.history), { parseSpecial: true }).length;
  }
}
