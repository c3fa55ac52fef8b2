import { Command, CommanderError } from "commander";
import { AbortError, LayerstreamError } from "../engine/errors.js";
import { generateCommand } from "./commands/generate.js";
import { profileCommand } from "./commands/profile.js";
import { inspectCommand } from "./commands/inspect.js";
import { modelsCommand } from "./commands/models.js";
import { pullCommand } from "./commands/pull.js";
import { rmCommand } from "./commands/rm.js";
import { workerCommand } from "./commands/worker.js";
import { verifyCommand } from "./commands/verify.js";
import { serveCommand } from "./commands/serve.js";
import { chatCommand } from "./commands/chat.js";
import { keygenCommand } from "./commands/keygen.js";
import { statusCommand } from "./commands/status.js";
import { perplexityCommand } from "./commands/perplexity.js";
import { quantizeCommand } from "./commands/quantize.js";
import { processIo, type CliIo } from "./io.js";

/** Exit codes: 0 success, 1 internal error, 2 bad input (flags, files, unsupported models). */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_BAD_INPUT = 2;

export function buildProgram(io: CliIo): Command {
  const program = new Command("layerstream")
    .description("run GGUF language models larger than one machine's memory: layer streaming and LAN clusters")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.writeOut(s), writeErr: (s) => io.writeErr(s) })
    .exitOverride();
  for (const command of [generateCommand(io), chatCommand(io), serveCommand(io), inspectCommand(io), verifyCommand(io), workerCommand(io), keygenCommand(io), statusCommand(io), profileCommand(io), perplexityCommand(io), pullCommand(io), modelsCommand(io), rmCommand(io), quantizeCommand(io)]) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.writeOut(s), writeErr: (s) => io.writeErr(s) });
    program.addCommand(command);
  }
  return program;
}

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Why the CLI's signal fired: Ctrl-C, or stdout closed (a reader such as `head` went away). */
type StopReason = "SIGINT" | "EPIPE";

/**
 * Runs the CLI and returns the exit code; never calls process.exit. Ctrl-C (SIGINT) aborts the
 * running command, which writes what it has and stops its workers: exit 130 (a second Ctrl-C
 * kills the process outright). A closed stdout (EPIPE) stops it the same way: exit 0.
 */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  const abort = new AbortController();
  const stop = (reason: StopReason) => {
    if (!abort.signal.aborted) abort.abort(reason);
  };
  const onSigint = () => stop("SIGINT");
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") stop("EPIPE");
  };
  process.once("SIGINT", onSigint);
  process.stdout.on("error", onStdoutError);
  const cliIo = io ?? processIo(abort.signal);
  const interrupted = () => (abort.signal.reason === "SIGINT" ? EXIT_INTERRUPTED : EXIT_OK);
  try {
    await buildProgram(cliIo).parseAsync([...argv], { from: "user" });
    return abort.signal.aborted ? interrupted() : EXIT_OK;
  } catch (error) {
    if (abort.signal.aborted && error instanceof AbortError) return interrupted();
    if (error instanceof CommanderError) {
      // commander has already printed its one-line message
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    if (error instanceof LayerstreamError) {
      cliIo.writeErr(`layerstream: error: ${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    cliIo.writeErr(`layerstream: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_INTERNAL;
  } finally {
    process.off("SIGINT", onSigint);
    // onStdoutError stays: a write still queued when stdout has gone must not crash the exit
  }
}
