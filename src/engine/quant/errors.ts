import { LayerstreamError } from "../errors.js";
import { type GgmlType, ggmlTypeName } from "../ggml/types.js";

/** A tensor type we cannot compute with (for the stated purpose). */
export class UnsupportedTensorTypeError extends LayerstreamError {
  constructor(
    readonly type: GgmlType,
    readonly purpose: string,
    supported: readonly GgmlType[],
  ) {
    super(
      "UNSUPPORTED_TENSOR_TYPE",
      `tensor type ${ggmlTypeName(type)} is not supported as ${purpose} (supported: ${supported.map(ggmlTypeName).join(", ")})`,
    );
  }
}

/** Sizes that do not fit a kernel: a row that is not whole blocks, or a buffer too small. */
export class TensorShapeError extends LayerstreamError {
  constructor(message: string) {
    super("BAD_TENSOR_SHAPE", message);
  }
}
