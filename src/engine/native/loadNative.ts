/**
 * Finds and loads the native addon (native/simd/build/Release/layerstream_simd.node, relative to
 * the package root). Never throws: when the addon is missing, fails to load, or
 * LAYERSTREAM_NATIVE=0, `loadNative()` returns undefined and `nativeLoadFailure()` says why, in
 * one line, for the CLI's warning. The result is cached for the process.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { NativeAddon } from "./addonTypes.js";

export type NativeLoadFailureReason = "DISABLED" | "NOT_BUILT" | "LOAD_FAILED" | "INCOMPLETE";

export interface NativeLoadFailure {
  readonly reason: NativeLoadFailureReason;
  /** one line, e.g. "native kernels disabled by LAYERSTREAM_NATIVE=0; using TypeScript kernels" */
  readonly message: string;
}

/** Path of the built addon; src/engine/native/ and dist/engine/native/ are both 3 levels below the root. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL("../../../native/simd/build/Release/layerstream_simd.node", import.meta.url));

const REQUIRED_FUNCTIONS = ["capabilities", "setThreads", "setIsa", "matmul", "siluMul", "rmsNorm", "rope"] as const;

export interface NativeProbe {
  readonly addon: NativeAddon | undefined;
  /** set exactly when `addon` is undefined */
  readonly failure: NativeLoadFailure | undefined;
}

let cached: NativeProbe | undefined;

/** Tries to load the addon now, without the process-wide cache (tests, diagnostics). Never throws. */
export function probeNative(env: NodeJS.ProcessEnv = process.env, addonPath: string = NATIVE_ADDON_PATH): NativeProbe {
  if (env.LAYERSTREAM_NATIVE === "0") {
    return { addon: undefined, failure: { reason: "DISABLED", message: "native kernels disabled by LAYERSTREAM_NATIVE=0; using TypeScript kernels" } };
  }
  if (!existsSync(addonPath)) {
    return {
      addon: undefined,
      failure: { reason: "NOT_BUILT", message: `native kernels not built (${addonPath} missing; build it with: node native/simd/install.mjs); using TypeScript kernels` },
    };
  }
  try {
    const require = createRequire(import.meta.url);
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
