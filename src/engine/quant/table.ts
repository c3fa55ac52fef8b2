/**
 * Kernel tables keyed by GgmlType: the weight types we can compute with (and the activation type
 * each one dots against), and the activation quantizers (ggml `from_float` of each `vec_dot_type`).
 */
import { GgmlType } from "../ggml/types.js";
import { UnsupportedTensorTypeError } from "./errors.js";
import { BF16_KERNEL, F16_KERNEL, F32_KERNEL } from "./float.js";
import type { ActivationQuantizer, WeightKernel } from "./kernel.js";
import { Q4_0_KERNEL } from "./q4_0.js";
import { Q4_1_KERNEL } from "./q4_1.js";
import { IQ4_NL_KERNEL } from "./iq4_nl.js";
import { IQ4_XS_KERNEL } from "./iq4_xs.js";
import { Q2_K_KERNEL } from "./q2_k.js";
import { Q3_K_KERNEL } from "./q3_k.js";
import { Q4_K_KERNEL } from "./q4_k.js";
import { Q5_0_KERNEL, Q5_1_KERNEL } from "./q5.js";
import { Q5_K_KERNEL } from "./q5_k.js";
import { Q6_K_KERNEL } from "./q6_k.js";
import { Q8_0_ACTIVATION, Q8_0_KERNEL, Q8_1_ACTIVATION } from "./q8.js";
import { Q8_K_ACTIVATION } from "./q8_k.js";

export const WEIGHT_KERNELS: ReadonlyMap<GgmlType, WeightKernel> = new Map<GgmlType, WeightKernel>(
  [
    F32_KERNEL,
    F16_KERNEL,
    BF16_KERNEL,
    Q8_0_KERNEL,
    Q4_0_KERNEL,
    Q4_1_KERNEL,
    Q5_0_KERNEL,
    Q5_1_KERNEL,
    Q2_K_KERNEL,
    Q3_K_KERNEL,
    Q4_K_KERNEL,
    Q5_K_KERNEL,
    Q6_K_KERNEL,
    IQ4_NL_KERNEL,
    IQ4_XS_KERNEL,
  ].map((kernel) => [kernel.type, kernel]),
);

export const ACTIVATION_QUANTIZERS: ReadonlyMap<GgmlType, ActivationQuantizer> = new Map<GgmlType, ActivationQuantizer>(
  [F32_KERNEL, F16_KERNEL, BF16_KERNEL, Q8_0_ACTIVATION, Q8_1_ACTIVATION, Q8_K_ACTIVATION].map((codec) => [codec.type, codec]),
);

/** The kernel for a weight type; throws UnsupportedTensorTypeError (UNSUPPORTED_TENSOR_TYPE) naming the type. */
export function weightKernel(type: GgmlType): WeightKernel {
  const kernel = WEIGHT_KERNELS.get(type);
  if (!kernel) throw new UnsupportedTensorTypeError(type, "a weight", [...WEIGHT_KERNELS.keys()]);
  return kernel;
}

/** The quantizer for an activation type; throws UnsupportedTensorTypeError (UNSUPPORTED_TENSOR_TYPE). */
export function activationQuantizer(type: GgmlType): ActivationQuantizer {
  const quantizer = ACTIVATION_QUANTIZERS.get(type);
  if (!quantizer) throw new UnsupportedTensorTypeError(type, "an activation", [...ACTIVATION_QUANTIZERS.keys()]);
  return quantizer;
}
