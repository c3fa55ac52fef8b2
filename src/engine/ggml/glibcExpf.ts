/**
 * `expf` as glibc computes it on x86-64 with FMA (the `__expf_fma` variant its loader picks on
 * every CPU with FMA; the algorithm of ARM's optimized-routines): e^x = 2^(k/32) · 2^(r/32) with a
 * 32-entry table and a cubic, evaluated in double with fused multiply-adds, then rounded to f32.
 * Its error (≤ 0.502 ulp) is not correctly rounded, so `Math.fround(Math.exp(x))` differs from it
 * about once in 300 calls; llama.cpp's scalar code (flash attention's online softmax) calls it,
 * so reproducing its bits needs its arithmetic.
 */

const N = 32;
const fr = Math.fround;
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const INV_LN2_N = fromBits(0x3ff71547652b82fen) * N; // 0x1.71547652b82fep+0 · N
const SHIFT = 6755399441055744; // 0x1.8p+52
const C0 = fromBits(0x3fac6af84b912394n) / (N * N * N); // 0x1.c6af84b912394p-5 / N³
const C1 = fromBits(0x3fcebfce50fac4f3n) / (N * N); // 0x1.ebfce50fac4f3p-3 / N²
const C2 = fromBits(0x3fe62e42ff0c52d6n) / N; // 0x1.62e42ff0c52d6p-1 / N
const OVERFLOW = fr(88.72283172607422); // 0x1.62e42ep6f
const UNDERFLOW = fr(-103.9720764160156); // -0x1.9fe368p6f

/** A double from its bit pattern (the C sources' hex literals; also for glibcSinCosf.ts). */
export function fromBits(bits: bigint): number {
  u64[0] = bits;
  return f64[0];
}

/** glibc's __exp2f_data.tab: bits(2^(i/32)), correctly rounded, less (i << 52)/32 (the exponent of i/32). */
const EXP2F_TABLE = [
  0x3ff0000000000000n, 0x3fefd9b0d3158574n, 0x3fefb5586cf9890fn, 0x3fef9301d0125b51n, 0x3fef72b83c7d517bn, 0x3fef54873168b9aan, 0x3fef387a6e756238n,
  0x3fef1e9df51fdee1n, 0x3fef06fe0a31b715n, 0x3feef1a7373aa9cbn, 0x3feedea64c123422n, 0x3feece086061892dn, 0x3feebfdad5362a27n, 0x3feeb42b569d4f82n,
  0x3feeab07dd485429n, 0x3feea47eb03a5585n, 0x3feea09e667f3bcdn, 0x3fee9f75e8ec5f74n, 0x3feea11473eb0187n, 0x3feea589994cce13n, 0x3feeace5422aa0dbn,
  0x3feeb737b0cdc5e5n, 0x3feec49182a3f090n, 0x3feed503b23e255dn, 0x3feee89f995ad3adn, 0x3feeff76f2fb5e47n, 0x3fef199bdd85529cn, 0x3fef3720dcef9069n,
  0x3fef5818dcfba487n, 0x3fef7c97337b9b5fn, 0x3fefa4afa2a490dan, 0x3fefd0765b6e4540n,
];

/** 2^(i/32) as doubles: the table entries with the exponent of i/32 added back */
const POW2_I_OVER_N = EXP2F_TABLE.map((bits, i) => fromBits(bits + (BigInt(i) << 52n) / BigInt(N)));

/** Splits a double into high and low halves of 26 bits each (Veltkamp), for exact products. */
function split(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const hi = c - (c - a);
  return [hi, a - hi];
}

/** a·b + c with one rounding (a double fused multiply-add), by an exact product and a compensated sum. */
export function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || p === 0) return p + c;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const pErr = ah * bh - p + ah * bl + al * bh + al * bl; // p + pErr = a·b exactly
  const s = p + c;
  const v = s - p;
  const sErr = p - (s - v) + (c - v); // s + sErr = p + c exactly
  return s + (sErr + pErr);
}

/** glibc's expf(x) for an f32 x. */
export function glibcExpf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) >= 88) {
    if (x === -Infinity) return 0;
    if (x === Infinity) return Infinity;
    if (x > OVERFLOW) return Infinity;
    if (x < UNDERFLOW) return 0;
  }
  const z = INV_LN2_N * x;
  const shifted = z + SHIFT;
  const k = shifted - SHIFT; // z rounded to an integer, ties to even
  const r = z - k;
  const ki = ((k % N) + N) % N;
  const s = POW2_I_OVER_N[ki] * 2 ** ((k - ki) / N);
  const zPoly = fma64(C0, r, C1);
  const r2 = r * r;
  const y = fma64(zPoly, r2, fma64(C2, r, 1));
  return fr(y * s);
}
