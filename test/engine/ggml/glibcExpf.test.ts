/**
 * glibcExpf against glibc's expf itself: values printed by a C program calling expf on this
 * machine class (x86-64 with FMA, glibc 2.36), including inputs where the correctly rounded
 * Math.fround(Math.exp(x)) differs by one ulp, and the overflow / underflow / subnormal edges.
 * (The whole f32 range at a stride of 409 bit patterns, 10.5 M inputs, agreed when it was written.)
 */
import { describe, expect, it } from "vitest";
import { fma64, glibcExpf } from "../../../src/engine/ggml/glibcExpf.js";

const fr = Math.fround;
/** [x, glibc expf(x)] where fround(Math.exp(x)) is one ulp off */
const ROUNDED_DIFFERENTLY: ReadonlyArray<readonly [number, number]> = [
  [0.0047091650776565075, 1.0047203302383423], [0.004838484339416027, 1.0048502683639526], [0.005517077166587114, 1.0055323839187622],
  [0.014492427930235863, 1.01459801197052], [0.0257851704955101, 1.0261205434799194], [0.02690504863858223, 1.0272703170776367],
  [0.02735833264887333, 1.0277360677719116], [0.11216343194246292, 1.1186957359313965], [0.11574704200029373, 1.1227118968963623],
  [0.11962928622961044, 1.127078890800476], [0.3111102879047394, 1.36493980884552], [0.3188747763633728, 1.3755791187286377],
];
const EDGES: ReadonlyArray<readonly [number, number]> = [
  [0, 1], [-0, 1], [1, 2.71828175], [-1, 0.36787945], [88.6999969, 3.32597686e38], [88.7300034, Infinity], [-103.900002, 1.40129846e-45],
  [-104, 0], [-87.5, 9.9823514e-39], [-95, 5.52111595e-42], [0.5, 1.64872122], [-30.25, 7.28772443e-14], [-Infinity, 0], [Infinity, Infinity],
];

describe("glibcExpf", () => {
  it.each(ROUNDED_DIFFERENTLY)("expf(%f) is glibc's %f, not the correctly rounded value", (x, expected) => {
    expect(glibcExpf(fr(x))).toBe(fr(expected));
    expect(fr(Math.exp(fr(x)))).not.toBe(fr(expected));
  });

  it.each(EDGES)("expf(%f) = %f", (x, expected) => {
    expect(glibcExpf(fr(x))).toBe(fr(expected));
  });

  it("keeps NaN", () => {
    expect(glibcExpf(Number.NaN)).toBeNaN();
  });

  it("fma64 rounds a·b + c once", () => {
    const a = 1 + 2 ** -30;
    // a² = 1 + 2^-29 + 2^-60: the unfused product loses the 2^-60 term before subtracting
    expect(fma64(a, a, -(1 + 2 ** -29))).toBe(2 ** -60);
    expect(a * a - (1 + 2 ** -29)).toBe(0);
  });
});
