import { Command, CommanderError } from "commander";
import { LayerstreamError } from "../engine/errors.js";
import { generateCommand } from "./commands/generate.js";
import { inspectCommand } from "./commands/inspect.js";
import { workerCommand } from "./commands/worker.js";
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
  for (const command of [generateCommand(io), inspectCommand(io), workerCommand(io)]) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.writeOut(s), writeErr: (s) => io.writeErr(s) });
    program.addCommand(command);
  }
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit. */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") abort.abort();
  });
  const cliIo = io ?? processIo(abort.signal);
  try {
    await buildProgram(cliIo).parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
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
  }
}
