#!/usr/bin/env node
// The package's `install` script (`npm install` / `npm ci` run it). When the package carries a
// prebuilt addon for this platform (prebuilds/, made by prebuild.mjs at `npm pack`) and it
// loads, nothing is compiled. Otherwise the addon is built with node-gyp. It never fails the
// install: without a compiler, Python or Node headers the build fails, this prints one
// warning, exits 0, and layerstream runs its TypeScript kernels.
//
// LAYERSTREAM_NATIVE=0 skips the build; LAYERSTREAM_BUILD_FROM_SOURCE=1 builds even when a
// prebuild loads. node-gyp is the one npm provides to scripts (npm_config_node_gyp), else the
// one in node_modules, else `node-gyp` on PATH.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const addonDir = dirname(fileURLToPath(import.meta.url));

function warn(message) {
  process.stderr.write(`layerstream: ${message}\n`);
}

function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  try {
    return [process.execPath, createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js")];
  } catch {
    return ["node-gyp"];
  }
}

/**
 * Node's own headers: npm passes `nodedir` from .npmrc to node-gyp, but a direct
 * `node native/simd/install.mjs` does not, and node-gyp would then try to download them.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(`${prefix}/include/node/node_api.h`) ? [`--nodedir=${prefix}`] : [];
}

/** Whether a prebuilt addon for this platform is there and loads (node-gyp-build finds it). */
function prebuildLoads() {
  const require = createRequire(import.meta.url);
  try {
    const file = require("node-gyp-build").path(addonDir);
    if (!file.split(/[\\/]/).includes("prebuilds")) return false; // a local build/ comes first; rebuild that
    return typeof require(file).matmul === "function";
  } catch {
    return false;
  }
}

function main() {
  if (process.env.LAYERSTREAM_NATIVE === "0") {
    warn("LAYERSTREAM_NATIVE=0: not building the native kernels (TypeScript kernels will run)");
    return;
  }
  if (process.env.LAYERSTREAM_BUILD_FROM_SOURCE !== "1" && prebuildLoads()) return;
  const [command, ...prefix] = nodeGypCommand();
  const result = spawnSync(command, [...prefix, "rebuild", ...nodedirArgs()], { cwd: addonDir, stdio: ["ignore", "inherit", "inherit"], shell: process.platform === "win32" });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : `node-gyp exited with ${result.status ?? result.signal}`;
    warn(`native kernels not built (${why}); layerstream will use its TypeScript kernels`);
  }
}

main();
