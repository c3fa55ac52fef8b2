/** `layerstream` run from the TypeScript sources (under tsx), for benchmarks that compare with other tsx scripts. */
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
