/** The kernel tables: which types are supported, with which partner types, and their errors. */
import { describe, expect, it } from "vitest";
import { GGML_TYPE_TRAITS, GgmlType } from "../../../src/engine/ggml/types.js";
import { UnsupportedTensorTypeError } from "../../../src/engine/quant/errors.js";
import { ACTIVATION_QUANTIZERS, activationQuantizer, WEIGHT_KERNELS, weightKernel } from "../../../src/engine/quant/table.js";

describe("quant-table", () => {
  it("pairs each weight type with ggml's vec_dot_type", () => {
    const pairs = Object.fromEntries([...WEIGHT_KERNELS].map(([type, k]) => [GgmlType[type], GgmlType[k.vecDotType]]));
    expect(pairs).toEqual({
      F32: "F32",
      F16: "F16",
      BF16: "BF16",
      Q8_0: "Q8_0",
      Q4_0: "Q8_0",
      Q4_1: "Q8_1",
      Q5_0: "Q8_0",
      Q5_1: "Q8_1",
      Q2_K: "Q8_K",
      Q3_K: "Q8_K",
      Q4_K: "Q8_K",
      Q5_K: "Q8_K",
      Q6_K: "Q8_K",
      IQ4_NL: "Q8_0",
      IQ4_XS: "Q8_K",
    });
  });

  it("has an activation quantizer for every vec_dot_type, and only those", () => {
    const needed = new Set([...WEIGHT_KERNELS.values()].map((k) => k.vecDotType));
    expect(new Set(ACTIVATION_QUANTIZERS.keys())).toEqual(needed);
  });

  it("block sizes agree with GGML_TYPE_TRAITS and entries are keyed by their own type", () => {
    for (const [type, codec] of [...WEIGHT_KERNELS, ...ACTIVATION_QUANTIZERS]) {
      expect(codec.type).toBe(type);
      const traits = GGML_TYPE_TRAITS.get(type)!;
      expect([codec.blockSize, codec.blockBytes]).toEqual([traits.blockSize, traits.typeSize]);
    }
  });

  it("weightKernel throws a typed one-line error naming an unsupported type and listing the supported ones", () => {
    let error: unknown;
    try {
      weightKernel(GgmlType.IQ2_XXS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedTensorTypeError);
    expect(error).toMatchObject({ code: "UNSUPPORTED_TENSOR_TYPE", type: GgmlType.IQ2_XXS });
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^tensor type IQ2_XXS is not supported as a weight \(supported: .*\)$/);
    for (const name of ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_0", "IQ4_NL", "IQ4_XS"]) expect(message).toContain(name);
    expect(() => weightKernel(GgmlType.Q8_K)).toThrow(/Q8_K/);
    expect(() => weightKernel(99 as GgmlType)).toThrow(/type#99/);
  });

  it("activationQuantizer throws for a type that is never a vec_dot_type", () => {
    expect(() => activationQuantizer(GgmlType.Q4_0)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_TENSOR_TYPE" }));
    expect(activationQuantizer(GgmlType.Q8_K).type).toBe(GgmlType.Q8_K);
  });
});
