/**
 * IEEE half and bfloat16 conversions, bit-exact with ggml's reference
 * (`ggml_compute_fp32_to_fp16`, `ggml_compute_fp32_to_bf16`): round to nearest even.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Lookup table: all 65536 half bit patterns → f32. */
const HALF_TO_F32 = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = decodeHalf(h);
  return table;
})();

function decodeHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** half bits → f32 value */
export function f16ToF32(h: number): number {
  return HALF_TO_F32[h & 0xffff];
}

/** f32 bits of |x| at or above 2^-14, the smallest normal half */
const HALF_MIN_NORMAL_BITS = 0x38800000;
/** f32 bits of 65520: |x| from here rounds to infinity */
const HALF_OVERFLOW_BITS = 0x477ff000;

/** f32 value → half bits, round to nearest even (as the F16C instruction and ggml do). */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const absBits = x & 0x7fffffff;
  if (absBits >= 0x7f800000) {
    // Inf or NaN
    return sign | 0x7c00 | (absBits > 0x7f800000 ? 0x200 : 0);
  }
  if (absBits >= HALF_OVERFLOW_BITS) return sign | 0x7c00; // rounds to >= 65520 → inf
  if (absBits < HALF_MIN_NORMAL_BITS) {
    // subnormal half (or zero): value / 2^-24 rounded to nearest even
    f32Scratch[0] = value < 0 ? -value : value;
    const scaled = f32Scratch[0] * 16777216; // 2^24, exact in double
    return sign | roundHalfEven(scaled);
  }
  return sign | normalHalf(absBits);
}

/** The half bits (no sign) of an f32 |x| (bits `absBits`) in [2^-14, 65520): exponent rebiased, mantissa rounded to nearest even. */
function normalHalf(absBits: number): number {
  const exponent = (absBits >>> 23) - 127 + 15;
  const mantissa = absBits & 0x7fffff;
  const half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half;
}

/**
 * f32ToF16 of every value of `src` into `dst` from `dstOffset`: normal halves straight from the
 * f32 bits (no scratch round trip per value; the KV cache stores every K and V this way),
 * everything else through f32ToF16.
 */
export function f32ArrayToF16(src: Float32Array, dst: Uint16Array, dstOffset: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const absBits = x & 0x7fffffff;
    dst[dstOffset + i] = absBits < HALF_MIN_NORMAL_BITS || absBits >= HALF_OVERFLOW_BITS ? f32ToF16(src[i]) : ((x >>> 16) & 0x8000) | normalHalf(absBits);
  }
}

function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Round an f32 value through half precision and back. */
export function roundToF16(value: number): number {
  return HALF_TO_F32[f32ToF16(value)];
}

/** bf16 bits → f32 value */
export function bf16ToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0];
}

/** f32 value → bf16 bits, round to nearest even; NaN stays quiet NaN (ggml_compute_fp32_to_bf16). */
export function f32ToBf16(value: number): number {
  f32Scratch[0] = value;
  const u = u32Scratch[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
}

/** The half → f32 lookup table itself (65536 entries), for hot loops that decode many halves. */
export const HALF_TO_F32_TABLE: Readonly<Float32Array> = HALF_TO_F32;
