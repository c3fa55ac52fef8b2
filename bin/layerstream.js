#!/usr/bin/env node
// Entry point of the `layerstream` command: runs the compiled CLI from dist/ (built by `npm install`).
import { existsSync } from "node:fs";

const cliUrl = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(cliUrl)) {
  process.stderr.write("layerstream: dist/ is missing; run `npm install` (or `npm run build`) in the layerstream folder first\n");
  process.exitCode = 1;
} else {
  const { main } = await import(cliUrl.href);
  process.exitCode = await main(process.argv.slice(2));
}
