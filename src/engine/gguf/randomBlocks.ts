/**
 * Seeded random Q4_0 matrices written straight as blocks (random 4-bit codes, one f16 scale per
 * block), about 50× faster than drawing f32 values and quantizing them: for benchmark models of
 * tens of GB, where only the shape and the bytes read matter, never for conformance fixtures.
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

