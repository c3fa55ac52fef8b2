/**
 * Finds and loads the native addon with node-gyp-build: the one built here
 * (native/simd/build/Release/layerstream_simd.node) when there is one, else the prebuilt one
 * the npm package ships for this platform (native/simd/prebuilds/<platform>-<arch>/). Never
 * throws: when the addon is missing, fails to load, or LAYERSTREAM_NATIVE=0, `loadNative()`
 * returns undefined and `nativeLoadFailure()` says why, in one line, for the CLI's warning.
 * The result is cached for the process.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { NativeAddon } from "./addonTypes.js";

export type NativeLoadFailureReason = "DISABLED" | "NOT_BUILT" | "LOAD_FAILED" | "INCOMPLETE";

export interface NativeLoadFailure {
  readonly reason: NativeLoadFailureReason;
  /** one line, e.g. "native kernels disabled by LAYERSTREAM_NATIVE=0; using TypeScript kernels" */
  readonly message: string;
}

/** The addon's folder (binding.gyp, build/, prebuilds/); src/engine/native/ and dist/engine/native/ are both 3 levels below the root. */
export const NATIVE_ADDON_DIR = fileURLToPath(new URL("../../../native/simd/", import.meta.url));

const require = createRequire(import.meta.url);

/** The addon's file for this platform (a local build first, then a prebuild), or undefined. */
export function findNativeAddon(dir: string = NATIVE_ADDON_DIR): string | undefined {
  try {
    return (require("node-gyp-build") as { path(dir: string): string }).path(dir);
  } catch {
    return undefined;
  }
}

const REQUIRED_FUNCTIONS = ["capabilities", "setThreads", "setIsa", "matmul", "siluMul", "rmsNorm", "rope"] as const;

export interface NativeProbe {
  readonly addon: NativeAddon | undefined;
  /** set exactly when `addon` is undefined */
  readonly failure: NativeLoadFailure | undefined;
}

let cached: NativeProbe | undefined;

/** Tries to load the addon now, without the process-wide cache (tests, diagnostics). Never throws. */
/** @param addonPath the binary to load; null: none was found */
export function probeNative(env: NodeJS.ProcessEnv = process.env, addonPath: string | null = findNativeAddon() ?? null): NativeProbe {
  if (env.LAYERSTREAM_NATIVE === "0") {
    return { addon: undefined, failure: { reason: "DISABLED", message: "native kernels disabled by LAYERSTREAM_NATIVE=0; using TypeScript kernels" } };
  }
  if (addonPath === null) {
    return {
      addon: undefined,
      failure: { reason: "NOT_BUILT", message: `native kernels not built for ${process.platform}-${process.arch} (no build or prebuild in ${NATIVE_ADDON_DIR}; build it with: node native/simd/install.mjs); using TypeScript kernels` },
    };
  }
  try {
    const addon = require(addonPath) as NativeAddon;
    const missing = REQUIRED_FUNCTIONS.filter((name) => typeof addon[name] !== "function");
    if (missing.length > 0) {
      return { addon: undefined, failure: { reason: "INCOMPLETE", message: `native addon lacks ${missing.join(", ")} (stale build?); using TypeScript kernels` } };
    }
    return { addon, failure: undefined };
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    return { addon: undefined, failure: { reason: "LOAD_FAILED", message: `native addon failed to load (${detail}); using TypeScript kernels` } };
  }
}

/** The addon, or undefined (see `nativeLoadFailure()`). Loads once per process. */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeAddon | undefined {
  cached ??= probeNative(env);
  return cached.addon;
}

/** Why `loadNative()` returned undefined; undefined when the addon loaded (or was not tried yet). */
export function nativeLoadFailure(): NativeLoadFailure | undefined {
  return cached?.failure;
}
