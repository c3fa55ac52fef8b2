/**
 * `layerstream profile <generate flags> [--out FILE] [--json]` (also `npm run profile -- …`):
 * runs the generation with profiling and prints where the time went.
 * - stdout: the table; with --json the ProfileRun as one JSON document (the table then goes to stderr);
 * - --out FILE: the self-contained HTML report;
 * - the generated text and progress go to stderr.
 */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { OptionError } from "../../engine/errors.js";
import { RunProfiler } from "../../profile/runProfiler.js";
import type { ProfileRun } from "../../profile/profileRun.js";
import { summarize } from "../../profile/summarize.js";
import { renderTable } from "../../profile/table.js";
import { renderHtml } from "../../profile/html.js";
import type { CliIo } from "../io.js";
import { addGenerateOptions, runGenerate, type GenerateFlags, type GenerateStats } from "./generate.js";

interface ProfileFlags extends GenerateFlags {
  /** HTML report path */
  readonly out?: string;
  readonly json: boolean;
}

export function profileCommand(io: CliIo): Command {
  return addGenerateOptions(new Command("profile").description("generate with profiling and show where each token's time goes (disk, compute, network; per layer and node)"))
    .option("--out <file>", "also write a self-contained HTML report (timeline per node, bar per layer)")
    .option("--json", "print the profile document as JSON on stdout (the table goes to stderr)", false)
    .action(async (flags: ProfileFlags) => {
      const result = await profileGeneration(flags, io);
      if (!result) return;
      writeReport(result.run, flags, io);
    });
}

/**
 * A profiled `generate` with these flags: the generated text and progress go to stderr.
 * @returns undefined when the run was interrupted
 */
export async function profileGeneration(flags: GenerateFlags, io: CliIo): Promise<{ run: ProfileRun; stats: GenerateStats } | undefined> {
  const profiler = new RunProfiler(process.argv.slice(2));
  const textToStderr: CliIo = { ...io, writeOut: (text) => io.writeErr(text) };
  const stats = await runGenerate(flags, textToStderr, profiler);
  if (!stats) return undefined;
  if (!profiler.result) throw new OptionError("NOT_PROFILED", "the profiled generation produced no profile");
  return { run: profiler.result, stats };
}

function writeReport(run: ProfileRun, flags: ProfileFlags, io: CliIo): void {
  const summary = summarize(run);
  const table = renderTable(summary);
  if (flags.json) {
    io.writeErr(table);
    io.writeOut(JSON.stringify(run) + "\n");
  } else {
    io.writeOut(table);
  }
  if (flags.out) {
    try {
      writeFileSync(flags.out, renderHtml(run, summary, table));
    } catch (error) {
      throw new OptionError("BAD_OUT_FILE", `cannot write the report to ${flags.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    io.progress(`profile: report written to ${flags.out}`);
  }
}
