/**
 * `npm run profile -- <layerstream generate flags> [--out FILE] [--json]`: the same as
 * `layerstream profile …` (src/cli/commands/profile.ts), run from the sources.
 */
import { main } from "../../src/cli/main.js";

process.exitCode = await main(["profile", ...process.argv.slice(2)]);
