#!/usr/bin/env node
// Builds the prebuilt addon that ships in the npm package (`npm pack` / `npm publish` run this
// from `prepack`): prebuilds/<platform>-<arch>/node.napi-style binary made by prebuildify,
// found at run time by node-gyp-build, so installing the package needs no compiler on this
// platform. Node's own headers are used (no download). Other platforms build from source at
// install (install.mjs), and the TypeScript kernels remain the last resort.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const addonDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function nodeGypScript() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  return require.resolve("node-gyp/bin/node-gyp.js");
}

const prefix = dirname(dirname(process.execPath));
const env = { ...process.env, PREBUILD_NODE_GYP: nodeGypScript() };
if (!env.npm_config_nodedir && existsSync(`${prefix}/include/node/node_api.h`)) env.npm_config_nodedir = prefix;
rmSync(`${addonDir}/prebuilds`, { recursive: true, force: true });
const prebuildify = require.resolve("prebuildify/bin.js");
const result = spawnSync(process.execPath, [prebuildify, "--napi", "--strip", "--quiet"], { cwd: addonDir, env, stdio: ["ignore", "inherit", "inherit"] });
if (result.status !== 0) {
  process.stderr.write(`layerstream: prebuildify failed (${result.error?.message ?? `exit ${result.status}`}); the package would ship without a prebuilt addon\n`);
  process.exitCode = 1;
}
