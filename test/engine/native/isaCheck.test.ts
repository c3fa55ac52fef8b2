/**
 * native/simd/tools/isa_check.sh: the engine built without Node, every ISA path of this CPU and
 * 1/2 threads agreeing on 121 matmul and attention cases (flash attention included), and the
 * aarch64 build — NEON kernels — run under qemu-aarch64, printing the same hashes. Needs g++,
 * aarch64-linux-gnu-g++ and qemu-aarch64 (Debian: g++-aarch64-linux-gnu qemu-user; .ci/run
 * installs them): a missing tool fails the test, it does not skip the NEON check.
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";

const SCRIPT = path.resolve("native/simd/tools/isa_check.sh");
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

it("every ISA path agrees, and the aarch64 (NEON) build prints the same hashes under qemu", () => {
  const missing = ["g++", "aarch64-linux-gnu-g++", "qemu-aarch64"].filter((tool) => !has(tool));
  expect(missing, `missing ${missing.join(", ")}: apt-get install g++-aarch64-linux-gnu qemu-user (as .ci/run does)`).toEqual([]);
  const output = execFileSync("bash", [SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  expect(output).toMatch(/^all ISA paths agree$/m);
  const match = /^aarch64 \(qemu\): same hashes for all (\d+) cases$/m.exec(output);
  expect(match, output.slice(-2000)).not.toBeNull();
  expect(Number(match![1])).toBeGreaterThanOrEqual(121);
}, 300_000);
