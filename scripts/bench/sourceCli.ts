/** `layerstream` run from the TypeScript sources (under tsx), for benchmarks that compare with other tsx scripts. */
import { main } from "../../src/root/cli.js";

process.exitCode = await main(process.argv.slice(2));
