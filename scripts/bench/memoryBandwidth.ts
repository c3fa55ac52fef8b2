/**
 * The memory-bandwidth bound of decoding, measured on this machine in the same run: a small C++
 * program (compiled once with the system's c++ for this CPU, cached outside the repository) in
 * which `nThreads` threads each read their own contiguous half of a 1 GiB buffer — far larger than
 * any cache — summing 64-bit words, as a decode step streams its weights once. The best of 5 passes
 * is the bandwidth; decode can be no faster than (weights read per token) ÷ that.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { benchCacheDir } from "./benchModels.js";

const SOURCE = String.raw`
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
// usage: membw nThreads MiB passes — prints the best read bandwidth in bytes per second
int main(int argc, char** argv) {
  const int nThreads = argc > 1 ? std::atoi(argv[1]) : 1;
  const size_t nBytes = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024) << 20;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 5;
  const size_t nWords = nBytes / 8 / nThreads * nThreads;
  uint64_t* words = static_cast<uint64_t*>(std::aligned_alloc(4096, nWords * 8));
  if (!words || nThreads < 1) return 2;
  std::memset(words, 1, nWords * 8);
  double best = 0;
  uint64_t check = 0;
  for (int pass = 0; pass < passes; pass++) {
    std::vector<uint64_t> sums(nThreads);
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < nThreads; t++) {
      threads.emplace_back([&, t] {
        const uint64_t* w = words + nWords / nThreads * t;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < nWords / nThreads; i += 4) { s0 += w[i]; s1 += w[i + 1]; s2 += w[i + 2]; s3 += w[i + 3]; }
        sums[t] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& thread : threads) thread.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (uint64_t s : sums) check += s;
    if (nWords * 8 / seconds > best) best = nWords * 8 / seconds;
  }
  std::printf("%.0f %llu\n", best, static_cast<unsigned long long>(check & 1));
  return 0;
}
`;

/** The compiled program (built on first use). @throws when no C++ compiler is available */
function ensureProgram(): string {
  const hash = createHash("sha256").update(SOURCE).digest("hex").slice(0, 12);
  const bin = path.join(benchCacheDir(), `membw-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(benchCacheDir(), { recursive: true });
  const src = `${bin}.cc`;
  fs.writeFileSync(src, SOURCE);
  execFileSync("c++", ["-O3", "-march=native", "-pthread", "-std=c++17", src, "-o", `${bin}.partial`], { stdio: ["ignore", "ignore", "inherit"] });
  fs.renameSync(`${bin}.partial`, bin);
  return bin;
}

/** How the bandwidth is measured, for the report. */
export const BANDWIDTH_METHOD =
  "a C++ program (`scripts/bench/memoryBandwidth.ts`, compiled once with `c++ -O3 -march=native`) in which each thread reads its own contiguous half of a 1 GiB buffer, summing 64-bit words; the best of 5 passes";

/** Read bandwidth in bytes per second with `nThreads` threads (see the file comment). */
export function measureReadBandwidth(nThreads: number): number {
  const out = execFileSync(ensureProgram(), [String(nThreads), "1024", "5"], { encoding: "utf8" });
  const bytesPerSecond = Number(out.trim().split(" ")[0]);
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new Error(`memory bandwidth: unexpected output ${JSON.stringify(out)}`);
  return bytesPerSecond;
}
