import { OptionError } from "../errors.js";

const UNITS: ReadonlyMap<string, number> = new Map([
  ["", 1],
  ["b", 1],
  ["k", 2 ** 10],
  ["kb", 2 ** 10],
  ["kib", 2 ** 10],
  ["m", 2 ** 20],
  ["mb", 2 ** 20],
  ["mib", 2 ** 20],
  ["g", 2 ** 30],
  ["gb", 2 ** 30],
  ["gib", 2 ** 30],
  ["t", 2 ** 40],
  ["tb", 2 ** 40],
  ["tib", 2 ** 40],
]);

/**
 * Parses a memory size such as `512MB`, `4GB`, `1.5GiB` or `1000000` (bytes). Units are
 * binary, as memory is counted: 1 MB = 1 MiB = 2^20 bytes.
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS.get(match[2].toLowerCase()) : undefined;
  if (!match || unit === undefined) {
    throw new OptionError("BAD_SIZE", `cannot read "${text}" as a size; use e.g. 512MB, 4GB, 1.5GiB or a number of bytes`);
  }
  return Math.floor(Number(match[1]) * unit);
}

/** 1536 → "1.5 KiB" */
export function formatBytes(nBytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = nBytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[i]}`;
}
