/**
 * Native llama.cpp for `npm run bench`: `llama-bench` built once from the llama.cpp source that
 * node-llama-cpp bundles (node_modules/node-llama-cpp/llama/gitRelease.bundle), compiled for this
 * CPU (GGML_NATIVE) with OpenMP, and cached outside the repository keyed by the bundle's commit:
 *   <bench cache>/llama.cpp-src-<commit>    the source (`git clone` of the bundle)
 *   <bench cache>/llama.cpp-build-<commit>  the build (bin/llama-bench)
 * The bench cache is LAYERSTREAM_BENCH_CACHE, default ~/.cache/layerstream-bench (benchModels.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchCacheDir } from "./benchModels.js";

const BUNDLE = path.resolve(import.meta.dirname, "../../node_modules/node-llama-cpp/llama/gitRelease.bundle");

/**
 * CMake options of the native build. This source has no LLAMA_CURL option (downloads go through
 * LLAMA_OPENSSL, turned off: llama-bench reads local files only); the unified `llama` app binary is
 * not needed either. Static libraries make bin/llama-bench self-contained.
 * On x86, AMX is left out (GCC's explicit -mno-amx-* outlasts the later -march=native): on a Xeon
 * with AMX in a KVM guest this source's AMX matmul (ggml_backend_amx_mul_mat, which a -march=native
 * build uses for Q4_0, Q4_K, Q8_0… matrices) dies with SIGSEGV on the first prompt; without it the
 * same source runs its AVX-512 VNNI kernels and CPU repack, as on CPUs without AMX.
 */
export function nativeCmakeFlags(arch: string = process.arch): string[] {
  const flags = [
    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DGGML_OPENMP=ON", "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF",
  ];
  if (arch !== "x64") return flags;
  const noAmx = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16";
  return [...flags, `-DCMAKE_C_FLAGS=${noAmx}`, `-DCMAKE_CXX_FLAGS=${noAmx}`];
}

/** The cached build's directory name: the commit, and a hash of the flags (a change of flags builds anew). */
export function nativeBuildDirName(commit: string, flags: readonly string[]): string {
  return `llama.cpp-build-${commit.slice(0, 12)}-${createHash("sha256").update(flags.join("\n")).digest("hex").slice(0, 8)}`;
}
/** parallel compile jobs of the one-time build (the reference machine has 2 cores) */
const BUILD_JOBS = 2;
/** niceness of the one-time build: it must not slow down other work on the machine */
const BUILD_NICENESS = 15;

export interface NativeLlamaBench {
  /** path of the llama-bench executable */
  bin: string;
  /** the llama.cpp commit it was built from */
  commit: string;
  /** the configure and build commands, for the report */
  configureCommand: string;
  buildCommand: string;
}

/** Thrown with a one-line message naming what is missing or what failed. */
export class NativeBuildError extends Error {}

function requireTool(tool: string, versionArg = "--version"): void {
  const result = spawnSync(tool, [versionArg], { stdio: "ignore" });
  if (result.error) throw new NativeBuildError(`native llama.cpp: ${tool} not found on PATH (needed to build llama-bench; install it or pass --no-native)`);
}

/** The commit the bundle's HEAD points to. */
export function bundleCommit(bundle: string = BUNDLE): string {
  if (!fs.existsSync(bundle)) throw new NativeBuildError(`native llama.cpp: ${bundle} is missing (is node-llama-cpp installed?)`);
  requireTool("git");
  const heads = spawnSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" });
  const commit = /^([0-9a-f]{40}) HEAD$/m.exec(heads.stdout ?? "")?.[1] ?? /^([0-9a-f]{40}) /m.exec(heads.stdout ?? "")?.[1];
  if (heads.status !== 0 || !commit) throw new NativeBuildError(`native llama.cpp: git bundle list-heads ${bundle} failed: ${lastLine(heads.stderr)}`);
  return commit;
}

/** An argument as a shell would need it written: quoted when it holds a space. */
function shellWord(arg: string): string {
  return arg.includes(" ") ? `'${arg}'` : arg;
}

function lastLine(text: string | undefined): string {
  return (text ?? "").trim().split("\n").at(-1) ?? "";
}

/** The first CMake error, else compiler error, else failed build step of a build log; else its last line. */
function firstErrorLine(logText: string): string {
  const lines = logText.split("\n").map((l) => l.trim()).filter(Boolean);
  for (const pattern of [/^CMake Error/, /\berror:/, /^FAILED:/]) {
    const at = lines.findIndex((l) => pattern.test(l));
    // CMake puts the message on the next lines
    if (at >= 0) return pattern.source === "^CMake Error" ? lines.slice(at, at + 2).join(" ") : lines[at];
  }
  return lines.at(-1) ?? "";
}

/** Runs one build step at low priority, its output appended to `logFile`; rejects with a one-line NativeBuildError. */
function runStep(command: string, args: readonly string[], logFile: string, what: string): Promise<void> {
  fs.appendFileSync(logFile, `\n$ ${command} ${args.join(" ")}\n`);
  const out = fs.openSync(logFile, "a");
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", out, out] });
    try {
      if (child.pid) os.setPriority(child.pid, Math.max(os.getPriority(), BUILD_NICENESS));
    } catch {
      // lowering priority is best effort
    }
    child.on("error", (error) => reject(new NativeBuildError(`native llama.cpp: ${what}: ${error.message}`)));
    child.on("close", (code) => {
      fs.closeSync(out);
      if (code === 0) return resolve();
      reject(new NativeBuildError(`native llama.cpp: ${what} failed (exit ${code}): ${firstErrorLine(fs.readFileSync(logFile, "utf8"))} — log: ${logFile}`));
    });
  });
}

/** The source tree of `commit`, cloned from the bundle once. */
async function ensureSource(commit: string, cacheDir: string, logFile: string): Promise<string> {
  const sourceDir = path.join(cacheDir, `llama.cpp-src-${commit.slice(0, 12)}`);
  if (fs.existsSync(path.join(sourceDir, "CMakeLists.txt"))) return sourceDir;
  const partial = `${sourceDir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  await runStep("git", ["clone", "--quiet", BUNDLE, partial], logFile, "git clone of the bundle");
  await runStep("git", ["-C", partial, "checkout", "--quiet", "--detach", commit], logFile, `git checkout ${commit.slice(0, 12)}`);
  fs.renameSync(partial, sourceDir);
  return sourceDir;
}

/**
 * bin/llama-bench of the bundle's commit, cloned, configured and built the first time (minutes on
 * 2 cores), then reused.
 * @throws NativeBuildError with a one-line message (git/cmake/ninja missing, configure or compile failure)
 */
export async function ensureNativeLlamaBench(log: (line: string) => void): Promise<NativeLlamaBench> {
  const commit = bundleCommit();
  const cacheDir = benchCacheDir();
  const flags = nativeCmakeFlags();
  const buildDir = path.join(cacheDir, nativeBuildDirName(commit, flags));
  const bin = path.join(buildDir, "bin", "llama-bench");
  const configureArgs = ["-S", path.join(cacheDir, `llama.cpp-src-${commit.slice(0, 12)}`), "-B", buildDir, "-G", "Ninja", ...flags];
  const buildArgs = ["--build", buildDir, "--target", "llama-bench", "-j", String(BUILD_JOBS)];
  const built: NativeLlamaBench = {
    bin, commit,
    configureCommand: `cmake ${configureArgs.map(shellWord).join(" ")}`.replaceAll(os.homedir(), "~"),
    buildCommand: `cmake ${buildArgs.join(" ")}`.replaceAll(os.homedir(), "~"),
  };
  if (fs.existsSync(bin)) return built;

  requireTool("cmake");
  requireTool("ninja");
  requireTool("c++");
  fs.mkdirSync(buildDir, { recursive: true });
  const logFile = path.join(buildDir, "build.log");
  log(`building native llama-bench from llama.cpp ${commit.slice(0, 12)} (once; cached in ${buildDir}; log ${logFile})…`);
  const start = performance.now();
  await ensureSource(commit, cacheDir, logFile);
  await runStep("cmake", configureArgs, logFile, "cmake configure");
  await runStep("cmake", buildArgs, logFile, "cmake --build");
  if (!fs.existsSync(bin)) throw new NativeBuildError(`native llama.cpp: the build finished but ${bin} does not exist — log: ${logFile}`);
  log(`  built in ${((performance.now() - start) / 60000).toFixed(1)} min`);
  return built;
}

export interface NativeRunOptions {
  nThreads: number;
  nPromptTokens: number;
  nDecodeTokens: number;
  /** llama-bench -fa on (default off) */
  flashAttention?: boolean;
}

/** llama-bench's flags for one run: one repetition, flash attention as asked (default off), weights mmapped, JSON out. */
export function llamaBenchArgs(modelPath: string, options: NativeRunOptions): string[] {
  return [
    "-m", modelPath, "-t", String(options.nThreads), "-p", String(options.nPromptTokens), "-n", String(options.nDecodeTokens), "-d", `0,${options.nPromptTokens}`,
    "-b", "512", "-ub", "512", "-fa", options.flashAttention ? "on" : "off", "-lm", "mmap", "-r", "1", "-o", "json",
  ];
}

interface LlamaBenchRecord {
  n_prompt: number;
  n_gen: number;
  n_depth?: number;
  avg_ts: number;
}

/**
 * Prefill and decode tokens/second from llama-bench's `-o json` output: the pp row at depth 0,
 * and the tg row at depth `decodeDepth` (decoding after that many tokens of context).
 */
export function parseLlamaBenchJson(stdout: string, decodeDepth = 0): { prefillTokensPerSecond: number; decodeTokensPerSecond: number } {
  const records = JSON.parse(stdout) as LlamaBenchRecord[];
  const prefill = records.find((r) => r.n_prompt > 0 && r.n_gen === 0 && (r.n_depth ?? 0) === 0);
  const decode = records.find((r) => r.n_gen > 0 && r.n_prompt === 0 && (r.n_depth ?? 0) === decodeDepth);
  if (!prefill || !decode) throw new Error(`llama-bench output lacks a ${prefill ? "tg" : "pp"} row`);
  return { prefillTokensPerSecond: prefill.avg_ts, decodeTokensPerSecond: decode.avg_ts };
}

/** One llama-bench process: the pp test (prompt of nPromptTokens) and the tg test (nDecodeTokens after nPromptTokens of context, -d). */
export function runNativeLlamaBench(native: NativeLlamaBench, modelPath: string, options: NativeRunOptions): Promise<{ prefillTokensPerSecond: number; decodeTokensPerSecond: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(native.bin, llamaBenchArgs(modelPath, options), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`llama-bench exited ${code}: ${lastLine(stderr)}`));
      try {
        resolve(parseLlamaBenchJson(stdout, options.nPromptTokens));
      } catch (error) {
        reject(new Error(`llama-bench: ${(error as Error).message}`));
      }
    });
  });
}
