/**
 * native-weight-memory: the memory packed and resident weight copies live in
 * (native/simd/src/core/weight_memory.cc, addon.residentCopy and addon.pack): a resident copy
 * holds the same bytes in an array of its own; on Linux with transparent huge pages it is one
 * mapping that starts on a 2 MiB boundary and is advised MADV_HUGEPAGE ("hg" in
 * /proc/self/smaps), so whole 2 MiB stretches of it can be single pages.
 */
import { expect, it } from "vitest";
import fs from "node:fs";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import type { NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { describeNative, randomBlocks } from "./helpers.js";

const MiB = 2 ** 20;

/** Mappings of this process advised MADV_HUGEPAGE: [start address, length in bytes]. */
function hugeAdvisedMappings(): Array<[start: bigint, nBytes: number]> {
  const mappings: Array<[bigint, number]> = [];
  let current: [bigint, number] | undefined;
  for (const line of fs.readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) current = [BigInt(`0x${range[1]}`), Number(BigInt(`0x${range[2]}`) - BigInt(`0x${range[1]}`))];
    else if (line.startsWith("VmFlags:") && current && line.split(/\s+/).includes("hg")) mappings.push(current);
  }
  return mappings;
}

/** Transparent huge pages compiled in and not switched off: MADV_HUGEPAGE takes effect. */
function thpAvailable(): boolean {
  try {
    return !fs.readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8").includes("[never]");
  } catch {
    return false;
  }
}

describeNative("native-weight-memory", (addon) => {
  const residentCopy = (bytes: Uint8Array) => {
    if (!addon.residentCopy) throw new Error("this addon build has no residentCopy()");
    return addon.residentCopy(bytes);
  };

  it("copies the bytes into an array of their own", () => {
    const source = new Uint8Array(3 * MiB + 5);
    for (let i = 0; i < source.length; i++) source[i] = (i * 31 + 7) & 255;
    const copy = residentCopy(source);
    expect(copy === source).toBe(false);
    expect(copy.byteLength).toBe(source.byteLength);
    expect(Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength).equals(Buffer.from(source))).toBe(true);
    copy[0] ^= 0xff;
    expect(copy[0]).not.toBe(source[0]);
    expect(residentCopy(new Uint8Array(0)).byteLength).toBe(0);
  });

  it("refuses what is not a Uint8Array, naming the argument", () => {
    expect(() => addon.residentCopy!(new Float32Array(4) as never)).toThrow(/weight/);
  });

  it.runIf(process.platform === "linux" && thpAvailable())("puts copies and packed weights in 2 MiB-aligned mappings advised for huge pages", () => {
    const before = hugeAdvisedMappings().length;
    const copy = residentCopy(new Uint8Array(6 * MiB).fill(3));
    const nRows = 4096;
    const packed = addon.pack?.(randomBlocks(GgmlType.Q4_0, 4096, nRows, 5), GgmlType.Q4_0 as NativeWeightType, 4096, nRows);
    const after = hugeAdvisedMappings();
    expect(after.length).toBeGreaterThanOrEqual(before + (packed ? 2 : 1));
    const fresh = after.filter(([start, nBytes]) => nBytes >= 6 * MiB && start % BigInt(2 * MiB) === 0n);
    expect(fresh.length, "a 2 MiB-aligned huge-page-advised mapping of at least 6 MiB").toBeGreaterThanOrEqual(1);
    expect(copy[6 * MiB - 1]).toBe(3);
  });
});
