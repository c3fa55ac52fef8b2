import { describe, expect, it } from "vitest";
import { RopeTable, applyRopeTypeScript } from "../../../src/engine/model/rope.js";
import type { RopeParams } from "../../../src/engine/model/hparams.js";

const BASE: RopeParams = {
  layout: "norm",
  nRot: 8,
  freqBase: 10000,
  freqScale: 1,
  scalingType: "none",
  nCtxOrig: 2048,
  extFactor: 0,
  attnFactor: 1,
  betaFast: 32,
  betaSlow: 1,
};

describe("RopeTable", () => {
  it("gives cos/sin of p · base^(−2i/nRot) for every pair", () => {
    const table = new RopeTable(BASE);
    for (const p of [0, 1, 7, 300]) {
      const cs = table.cosSin(p);
      for (let i = 0; i < 4; i++) {
        const angle = p * Math.pow(10000, (-2 * i) / 8);
        expect(cs[2 * i]).toBeCloseTo(Math.cos(angle), 4);
        expect(cs[2 * i + 1]).toBeCloseTo(Math.sin(angle), 4);
      }
    }
  });

  it("divides angles by the linear scaling factor", () => {
    const scaled = new RopeTable({ ...BASE, freqScale: 0.25, scalingType: "linear" });
    const plain = new RopeTable(BASE);
    expect(Array.from(scaled.cosSin(8))).toEqual(Array.from(plain.cosSin(2)));
  });

  it("divides each pair's angle by its frequency factor (rope_freqs)", () => {
    const factors = new Float32Array([1, 2, 4, 8]);
    const table = new RopeTable(BASE, factors);
    const cs = table.cosSin(5);
    for (let i = 0; i < 4; i++) expect(cs[2 * i + 1]).toBeCloseTo(Math.sin((5 * Math.pow(10000, (-2 * i) / 8)) / factors[i]), 4);
  });

  it("keeps earlier positions valid when the table grows", () => {
    const table = new RopeTable(BASE);
    const before = Array.from(table.cosSin(3));
    table.cosSin(5000);
    expect(Array.from(table.cosSin(3))).toEqual(before);
  });
});

describe("applyRopeTypeScript", () => {
  const cosSin = new Float32Array([0, 1, 1, 0]); // pair 0 rotated by 90°, pair 1 by 0°

  it("rotates adjacent pairs (2i, 2i+1) in the norm layout", () => {
    const x = new Float32Array([1, 2, 3, 4]);
    applyRopeTypeScript(x, 0, 1, 4, cosSin, "norm");
    expect(Array.from(x)).toEqual([-2, 1, 3, 4]);
  });

  it("rotates (i, i + nRot/2) pairs in the neox layout", () => {
    const x = new Float32Array([1, 2, 3, 4]);
    applyRopeTypeScript(x, 0, 1, 4, cosSin, "neox");
    // pair 0 = (x0, x2) by 90°, pair 1 = (x1, x3) by 0°
    expect(Array.from(x)).toEqual([-3, 2, 1, 4]);
  });

  it("leaves dimensions beyond nRot and other offsets untouched", () => {
    const x = new Float32Array([9, 1, 2, 3, 4, 5, 6]);
    applyRopeTypeScript(x, 1, 1, 6, cosSin, "norm");
    expect(Array.from(x)).toEqual([9, -2, 1, 3, 4, 5, 6]);
  });
});
