export type { ActivationQuantizer, RowCodec, WeightKernel } from "./kernel.js";
export { TensorShapeError, UnsupportedTensorTypeError } from "./errors.js";
export { ACTIVATION_QUANTIZERS, WEIGHT_KERNELS, activationQuantizer, weightKernel } from "./table.js";
export { MatmulScratch, dequantizeRows, matmul } from "./matmul.js";
