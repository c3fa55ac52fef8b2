/**
 * `npm run profile -- <layerstream generate flags> [--out FILE] [--json]`: runs the
 * generation with profiling and prints where the time went. The profiled run itself is
 * injected (src/root/profiling), so this file only handles the script's own flags and the
 * outputs:
 * - stdout: the table; with --json the ProfileRun as one JSON document (the table then goes
 *   to stderr);
 * - --out FILE: the self-contained HTML report;
 * - the generated text and progress go to stderr.
 * Returns the exit code (0 ok, 2 bad input with one line, 1 internal error); never exits.
 */
import { writeFileSync } from "node:fs";
import { CommanderError } from "commander";
import { LayerstreamError } from "../../src/engine/errors.js";
import type { CliIo } from "../../src/cli/io.js";
import type { ProfileRun } from "../../src/root/profiling/profileRun.js";
import { summarize } from "./summarize.js";
import { renderTable } from "./table.js";
import { renderHtml } from "./html.js";

export type ProfiledGeneration = (argv: readonly string[], io: CliIo) => Promise<{ readonly run: ProfileRun }>;

export interface ProfileFlags {
  /** HTML report path */
  readonly out?: string;
  readonly json: boolean;
  /** everything else: `layerstream generate` flags */
  readonly generateArgv: readonly string[];
}

export interface ScriptIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
  readonly signal?: AbortSignal;
}

export class ProfileFlagError extends Error {
  readonly code = "BAD_PROFILE_FLAG";
}

/** Takes --out FILE (or --out=FILE) and --json out of argv; the rest is for generate. */
export function parseProfileFlags(argv: readonly string[]): ProfileFlags {
  let out: string | undefined;
  let json = false;
  const generateArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (arg === "--out" || arg.startsWith("--out=")) {
      const value = arg === "--out" ? argv[++i] : arg.slice("--out=".length);
      if (!value || value.startsWith("--")) throw new ProfileFlagError("--out needs a file name, e.g. --out profile.html");
      out = value;
    } else generateArgv.push(arg);
  }
  return { out, json, generateArgv };
}

export async function runProfileScript(argv: readonly string[], io: ScriptIo, profile: ProfiledGeneration): Promise<number> {
  try {
    const flags = parseProfileFlags(argv);
    const generateIo: CliIo = {
      writeOut: (text) => io.writeErr(text),
      writeErr: (text) => io.writeErr(text),
      progress: (line) => io.writeErr(`layerstream: ${line}\n`),
      signal: io.signal,
    };
    const { run } = await profile(flags.generateArgv, generateIo);
    const summary = summarize(run);
    const table = renderTable(summary);
    if (flags.json) {
      io.writeErr(table);
      io.writeOut(JSON.stringify(run) + "\n");
    } else {
      io.writeOut(table);
    }
    if (flags.out) {
      writeFileSync(flags.out, renderHtml(run, summary, table));
      io.writeErr(`profile: report written to ${flags.out}\n`);
    }
    return 0;
  } catch (error) {
    // commander has already printed its one-line message
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof LayerstreamError || error instanceof ProfileFlagError) {
      io.writeErr(`profile: error: ${error.message}\n`);
      return 2;
    }
    if (isFileError(error)) {
      io.writeErr(`profile: error: ${error.message}\n`);
      return 2;
    }
    io.writeErr(`profile: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

function isFileError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && ["ENOENT", "EACCES", "EISDIR", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code!);
}
