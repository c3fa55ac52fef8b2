/**
 * A profiled `layerstream generate`: the same flags, parsed by the same command, run by the same
 * function, with a RunProfiler attached. What `npm run profile` (scripts/profile) calls.
 */
import { generateCommand, runGenerate, type GenerateFlags, type GenerateStats } from "../../cli/commands/generate.js";
import type { CliIo } from "../../cli/io.js";
import type { ProfileRun } from "./profileRun.js";
import { RunProfiler } from "./runProfiler.js";

/**
 * Runs `layerstream generate <argv>` with profiling. Bad flags throw commander's error (its
 * one-line message already written to io.writeErr); bad input throws LayerstreamError.
 */
export async function profileGeneration(argv: readonly string[], io: CliIo): Promise<{ run: ProfileRun; stats: GenerateStats }> {
  const profiler = new RunProfiler(argv);
  let stats: GenerateStats | undefined;
  const command = generateCommand(io)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.writeErr(s), writeErr: (s) => io.writeErr(s) })
    .action(async (flags: GenerateFlags) => {
      stats = await runGenerate(flags, io, profiler);
    });
  await command.parseAsync([...argv], { from: "user" });
  if (!stats || !profiler.result) throw new Error("the profiled generation did not run");
  return { run: profiler.result, stats };
}
