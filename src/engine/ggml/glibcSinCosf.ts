/**
 * `sinf` and `cosf` as glibc computes them on x86-64 with FMA (its `__sinf_fma` / `__cosf_fma`
 * variants; the algorithm of ARM's optimized-routines): range reduction to [−π/4, π/4] by one
 * multiply-subtract below 120 (by 4/π to 192 bits above), then a short polynomial in double with
 * fused multiply-adds, rounded once to f32. Worst case 0.56 ulp, so `Math.fround(Math.cos(x))`
 * differs from it now and then; ggml builds its RoPE tables with cosf/sinf, and flash
 * attention's f32 query (its tiled path) shows every such difference.
 */
import { fma64, fromBits } from "./glibcExpf.js";

const fr = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** 2/π · 2^24 and π/2 (doubles), and 2π · 2^-64 */
const HALF_PI_INV_2_24 = fromBits(0x4164_5f30_6dc9_c883n); // 0x1.45F306DC9C883p+23
const HALF_PI = fromBits(0x3ff9_21fb_5444_2d18n); // 0x1.921FB54442D18p0
const PI63 = fromBits(0x3c19_21fb_5444_2d18n); // 0x1.921FB54442D18p-62

/** The polynomial's coefficients: cosine c0…c4 (negated in the second table), sine s1…s3. */
interface Poly {
  readonly c: readonly [number, number, number, number, number];
  readonly s: readonly [number, number, number];
}
const COS = [1, fromBits(0xbfdf_ffff_fd0c_621cn), fromBits(0x3fa5_5553_e106_8f19n), fromBits(0xbf56_c087_e89a_359dn), fromBits(0x3ef9_9343_027b_f8c3n)] as const;
const SIN = [fromBits(0xbfc5_5554_5995_a603n), fromBits(0x3f81_1076_0523_0bc4n), fromBits(0xbf29_94eb_3774_cf24n)] as const;
const POLY: readonly [Poly, Poly] = [
  { c: COS, s: SIN },
  { c: [-COS[0], -COS[1], -COS[2], -COS[3], -COS[4]], s: SIN },
];
const SIGN = [1, -1, -1, 1] as const;

/** 4/π to 192 bits, 8 new bits per entry (glibc's __inv_pio4). */
const INV_PIO4 = [
  0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529, 0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5,
  0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
].map(BigInt);

/** |x|'s top 12 bits (sign cleared), as glibc compares magnitudes. */
function abstop12(x: number): number {
  f32[0] = x;
  return (u32[0] >>> 20) & 0x7ff;
}

const TOP_PIO4 = abstop12(fr(0.7853981852531433)); // 0x1.921FB6p-1f
const TOP_2_M12 = abstop12(2 ** -12);
const TOP_120 = abstop12(120);

/** sin (n even) or cos (n odd) polynomial of the reduced x, with x2 = x·x. */
function poly(x: number, x2: number, p: Poly, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = fma64(x2, p.s[2], p.s[1]);
    const x7 = x3 * x2;
    const s = fma64(x3, p.s[0], x);
    return fr(fma64(x7, s1, s));
  }
  const x4 = x2 * x2;
  const c2 = fma64(x2, p.c[4], p.c[3]);
  const c1 = fma64(x2, p.c[1], p.c[0]);
  const x6 = x4 * x2;
  const c = fma64(x4, p.c[2], c1);
  return fr(fma64(x6, c2, c));
}

/** x reduced by π/2 for |x| < 120: the remainder, and the quadrant. */
function reduceFast(x: number): [number, number] {
  const r = x * HALF_PI_INV_2_24;
  const n = ((Math.trunc(r) | 0) + 0x800000) >> 24;
  return [fma64(-n, HALF_PI, x), n];
}

/** |x| ≥ 120 reduced with 4/π to 192 bits (32 × 96 → 128-bit integer product). */
function reduceLarge(x: number): [number, number] {
  f32[0] = x;
  const xi = u32[0];
  const base = (xi >>> 26) & 15;
  const shift = BigInt((xi >>> 23) & 7);
  const m = BigInt((xi & 0xffffff) | 0x800000) << shift;
  const mask64 = (1n << 64n) - 1n;
  let res0 = (m * INV_PIO4[base]) & 0xffffffffn;
  const res1 = m * INV_PIO4[base + 4];
  const res2 = m * INV_PIO4[base + 8];
  res0 = ((res2 >> 32n) | (res0 << 32n)) & mask64;
  res0 = (res0 + res1) & mask64;
  const n = (res0 + (1n << 61n)) >> 62n;
  res0 = (res0 - (n << 62n)) & mask64;
  const signed = res0 >= 1n << 63n ? res0 - (1n << 64n) : res0;
  return [Number(signed) * PI63, Number(n)];
}

/** glibc's sinf (odd = 0) or cosf (odd = 1) of an f32 x. */
function sinCos(x: number, odd: 0 | 1): number {
  const top = abstop12(x);
  if (top < TOP_PIO4) {
    if (top < TOP_2_M12) return odd ? 1 : x;
    return poly(x, x * x, POLY[0], odd);
  }
  if (!Number.isFinite(x)) return Number.NaN;
  const [r, n] = top < TOP_120 ? reduceFast(x) : reduceLarge(x);
  const quadrant = top < TOP_120 ? n : n + (x < 0 || Object.is(x, -0) ? 1 : 0);
  const p = POLY[(quadrant & 2) >> 1];
  return poly(r * SIGN[quadrant & 3], r * r, p, odd ? n ^ 1 : n);
}

/** glibc's sinf(x) for an f32 x. */
export function glibcSinf(x: number): number {
  return sinCos(x, 0);
}

/** glibc's cosf(x) for an f32 x. */
export function glibcCosf(x: number): number {
  return sinCos(x, 1);
}
