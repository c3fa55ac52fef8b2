/**
 * glibcSinf / glibcCosf against glibc's own sinf/cosf: values a C program printed on this machine
 * class (x86-64 with FMA, glibc 2.36) at inputs where Math.sin / Math.cos rounded to f32 differ,
 * in every range the algorithm has (polynomial only, one-step reduction below 120, 192-bit 4/π
 * reduction above; both signs). (4.2 M inputs across the whole f32 range agreed when written.)
 */
import { describe, expect, it } from "vitest";
import { glibcCosf, glibcSinf } from "../../../src/engine/ggml/glibcSinCosf.js";

const fr = Math.fround;
/** [x, sinf(x), cosf(x)] */
const CASES: ReadonlyArray<readonly [number, number, number]> = [
  [0.10139729082584381, 0.10122363269329071, 0.9948636889457703], [0.10990196466445923, 0.10968086123466492, 0.9939668774604797],
  [0.11089088022708893, 0.1106637567281723, 0.9938579201698303], [1.0004922151565552, 0.8417368531227112, 0.5398880243301392],
  [1.0084035396575928, 0.8459816575050354, 0.5332119464874268], [1.0590360164642334, 0.8718838095664978, 0.48971277475357056],
  [125.90109252929688, 0.2351631224155426, 0.9719558954238892], [144.05517578125, -0.44223248958587646, 0.896900475025177],
  [147.295654296875, 0.35152581334114075, -0.9361782073974609], [-122.01366424560547, -0.4868232309818268, -0.8735005259513855],
  [-123.63390350341797, 0.8964931964874268, -0.44305747747421265], [-131.4196014404297, 0.5031932592391968, 0.8641738891601562],
  [-1.031522512435913, -0.8580818176269531, 0.5135129690170288], [-1.0410161018371582, -0.8629181385040283, 0.5053436756134033],
  [-1.0932308435440063, -0.8881164789199829, 0.45961838960647583],
];

describe("glibcSinf / glibcCosf", () => {
  it.each(CASES)("x = %f: glibc's sinf %f and cosf %f", (x, sin, cos) => {
    expect(glibcSinf(fr(x))).toBe(fr(sin));
    expect(glibcCosf(fr(x))).toBe(fr(cos));
  });

  it("differs from the correctly rounded values where glibc does (the cases are not trivial)", () => {
    const naiveMisses = CASES.filter(([x, sin, cos]) => fr(Math.sin(x)) !== fr(sin) || fr(Math.cos(x)) !== fr(cos));
    expect(naiveMisses).toHaveLength(CASES.length);
  });

  it("small, zero and non-finite inputs", () => {
    expect(glibcSinf(fr(1e-5))).toBe(fr(1e-5));
    expect(glibcCosf(fr(1e-5))).toBe(1);
    expect(glibcSinf(0)).toBe(0);
    expect(glibcCosf(0)).toBe(1);
    expect(glibcSinf(Infinity)).toBeNaN();
    expect(glibcCosf(Number.NaN)).toBeNaN();
  });
});
