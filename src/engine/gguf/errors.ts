import { LayerstreamError } from "../errors.js";

/**
 * The one error type of the GGUF reader, writer and metadata accessors.
 *
 * Every rejection has its own `code`; messages are one line naming the problem with the
 * expected and actual values, and the byte offset where the problem was found.
 */

export type GgufErrorCode =
  /** file does not start with "GGUF" */
  | "BAD_MAGIC"
  /** version is not 2 or 3 */
  | "UNSUPPORTED_VERSION"
  /** a fixed-size field runs past the end of the file */
  | "TRUNCATED"
  /** a tensor/kv/array count cannot fit in the bytes that remain */
  | "COUNT_TOO_LARGE"
  /** a string length runs past the end of the file */
  | "STRING_TOO_LONG"
  /** a metadata value type (or array item type) is not one of the 13 GGUF types */
  | "BAD_VALUE_TYPE"
  /** arrays of arrays nested deeper than the reader accepts */
  | "NESTING_TOO_DEEP"
  | "DUPLICATE_KEY"
  /** general.alignment is not a non-zero power of 2, or not a u32 */
  | "BAD_ALIGNMENT"
  /** a tensor type that is not in GGML_TYPE_TRAITS */
  | "UNKNOWN_TENSOR_TYPE"
  /** n_dims greater than 4 */
  | "TOO_MANY_DIMS"
  /** a dimension that is negative (as int64), unsafe as a JS number, or n_dims = 0 */
  | "BAD_DIM"
  | "DUPLICATE_TENSOR"
  /** tensor bytes end past the end of the file */
  | "TENSOR_OUT_OF_BOUNDS"
  /** a tensor offset that is not a multiple of the alignment */
  | "MISALIGNED_TENSOR"
  /** row length (dims[0]) not a multiple of the type's block size */
  | "BAD_BLOCK_MULTIPLE"
  /** a 64-bit quantity (offset, element count, byte count) beyond Number.MAX_SAFE_INTEGER */
  | "OVERFLOW"
  | "FILE_NOT_FOUND"
  /** the path is a FIFO, socket, device or directory */
  | "NOT_A_FILE"
  /** two tensors' data ranges overlap */
  | "OVERLAPPING_TENSORS"
  | "IO"
  /** used after dispose() */
  | "DISPOSED"
  /** metadata accessors: key absent */
  | "MISSING_KEY"
  /** metadata accessors: key present with another value type */
  | "WRONG_TYPE"
  /** writer: a value that does not fit its declared GGUF type */
  | "BAD_VALUE"
  /** writer: tensor data length differs from what dims and type require */
  | "TENSOR_SIZE_MISMATCH";

export interface GgufErrorDetails {
  /** byte offset in the file where the problem was found */
  readonly offset?: number;
  /** file path, for errors raised when opening or writing a file */
  readonly path?: string;
  readonly cause?: unknown;
}

/** A file that is not a valid GGUF, with the field and byte offset that is wrong (`code`: BAD_MAGIC, TRUNCATED, …). */
export class GgufFormatError extends LayerstreamError {
  declare readonly code: GgufErrorCode;
  readonly offset: number | undefined;
  readonly path: string | undefined;

  constructor(code: GgufErrorCode, message: string, details: GgufErrorDetails = {}) {
    super(code, message);
    if (details.cause !== undefined) (this as { cause?: unknown }).cause = details.cause;
    this.offset = details.offset;
    this.path = details.path;
  }
}
