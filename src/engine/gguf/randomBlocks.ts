/**
 * Seeded random Q4_0 and Q6_K matrices written straight as blocks (random codes, one f16 scale),
 * about 50× faster than drawing f32 values and quantizing them: for benchmark models of tens of
 * GB, where only the shape and the bytes read matter, never for conformance fixtures.
 */
import { GgmlType, rowBytes } from "../ggml/types.js";
import { f32ToF16 } from "../ggml/fp16.js";

const Q4_0_BLOCK_BYTES = 18;
/** standard deviation of (q − 8) for uniform q in [0, 16) */
const CODE_STD = Math.sqrt((16 * 16 - 1) / 12);

/**
 * A [nRows, nCols] Q4_0 matrix of uniform random codes whose values have standard deviation `std`.
 * @param seed any 32-bit integer; the same seed gives the same bytes
 */
export function randomQ4_0Matrix(nCols: number, nRows: number, std: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(rowBytes(GgmlType.Q4_0, nCols) * nRows);
  fillRandom(bytes, seed);
  const scale = f32ToF16(std / CODE_STD);
  for (let at = 0; at < bytes.length; at += Q4_0_BLOCK_BYTES) {
    bytes[at] = scale & 0xff;
    bytes[at + 1] = scale >>> 8;
  }
  return bytes;
}

const Q6_K_BLOCK_BYTES = 210;
/** standard deviation of (q − 32)·scale for uniform 6-bit q and uniform int8 sub-block scales */
const Q6_K_VALUE_STD = Math.sqrt((64 * 64 - 1) / 12) * Math.sqrt((256 * 256 - 1) / 12);

/**
 * A [nRows, nCols] Q6_K matrix of uniform random codes and sub-block scales whose values have
 * standard deviation about `std` (one super-block scale d throughout).
 */
export function randomQ6_KMatrix(nCols: number, nRows: number, std: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(rowBytes(GgmlType.Q6_K, nCols) * nRows);
  fillRandom(bytes, seed);
  const d = f32ToF16(std / Q6_K_VALUE_STD);
  for (let at = 0; at < bytes.length; at += Q6_K_BLOCK_BYTES) {
    bytes[at + 208] = d & 0xff;
    bytes[at + 209] = d >>> 8;
  }
  return bytes;
}

/** xorshift32 over whole words, then the tail byte by byte. */
function fillRandom(bytes: Uint8Array, seed: number): void {
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const nWords = bytes.length >>> 2;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, nWords);
  for (let i = 0; i < nWords; i++) words[i] = next();
  for (let i = nWords * 4; i < bytes.length; i++) bytes[i] = next() & 0xff;
}

