export type { ActivationQuantizer, DotPath, MatmulRoute, RowCodec, RowDot, WeightKernel } from "./kernel.js";
export { TensorShapeError, UnsupportedTensorTypeError } from "./errors.js";
export { ACTIVATION_QUANTIZERS, WEIGHT_KERNELS, activationQuantizer, weightKernel } from "./table.js";
export { MatmulScratch, dequantizeRows, matmul } from "./matmul.js";
export { dotBf16Tiled, dotBf16Vec, dotF16Tiled, dotF16Vec, dotF32Tiled, dotF32Vec } from "./float-dots.js";
export { fmaF32, hsum8, reduceAdd16 } from "./simd.js";
