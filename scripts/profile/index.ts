/**
 * Entry point of `npm run profile -- <layerstream generate flags> [--out FILE] [--json]`: wires
 * the profiled generation from src/root/profiling into the script (cli.ts) and sets the exit code.
 */
import { profileGeneration } from "../../src/root/profiling/profileGeneration.js";
import { runProfileScript } from "./cli.js";

const abort = new AbortController();
process.once("SIGINT", () => abort.abort());
process.exitCode = await runProfileScript(
  process.argv.slice(2),
  { writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text), signal: abort.signal },
  profileGeneration,
);
