import { InvalidArgumentError } from "commander";
import { parseByteSize } from "../engine/streaming/byteSize.js";

/** Commander argument parsers that reject bad values with a message naming the constraint. */

export function parseIntInRange(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}]`);
    }
    return value;
  };
}

export function parseFloatInRange(min: number, max = Infinity, { minExclusive = false } = {}) {
  return (raw: string): number => {
    const value = Number(raw);
    const belowMin = minExclusive ? value <= min : value < min;
    if (raw.trim() === "" || !Number.isFinite(value) || belowMin || value > max) {
      const low = minExclusive ? `(${min}` : `[${min}`;
      throw new InvalidArgumentError(`expected a number in ${low}, ${max === Infinity ? "∞)" : `${max}]`}`);
    }
    return value;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new InvalidArgumentError(`expected one of: ${choices.join(", ")}`);
    return raw as T;
  };
}

export function parseByteSizeOption(raw: string): number {
  try {
    const bytes = parseByteSize(raw);
    if (bytes <= 0) throw new InvalidArgumentError("expected a size above 0");
    return bytes;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError("expected a size such as 512MB, 4GB or 1.5GiB");
  }
}
