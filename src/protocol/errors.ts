/**
 * Why a frame was rejected. Decoders never throw anything else, so a worker can count the
 * bad frame, answer with an error message and keep serving.
 */
export type ProtocolErrorCode =
  | "SHORT_HEADER"
  | "BAD_MAGIC"
  | "BAD_VERSION"
  | "BAD_TYPE"
  | "BAD_ENCODING"
  | "BAD_LAYER_RANGE"
  | "PAYLOAD_SIZE_MISMATCH"
  | "BAD_PAYLOAD"
  | "BAD_VALUE"
  /** a batch of a root session this worker does not serve */
  | "BAD_SESSION";

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}
