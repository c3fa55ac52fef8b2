/**
 * Bounds-checked little-endian reads over a byte array, for the GGUF reader.
 *
 * Every read checks that its bytes are there first and throws `GgufFormatError`
 * (TRUNCATED / STRING_TOO_LONG / OVERFLOW) with the offset, so the reader never indexes
 * past the end and never allocates from an unchecked length.
 */
import { GgufFormatError } from "./errors.js";

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

export class ByteCursor {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** the same bytes as a Buffer, for Node's native UTF-8 decoding (invalid sequences become U+FFFD) */
  private readonly text: Buffer;
  /** offset of the next byte to read */
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get nRemaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws TRUNCATED unless `nBytes` bytes remain. `what` names the field for the message. */
  need(nBytes: number, what: string): void {
    if (nBytes > this.bytes.length - this.pos) {
      throw new GgufFormatError(
        "TRUNCATED",
        `truncated at offset ${this.pos}: ${what} needs ${nBytes} bytes, ${this.nRemaining} left in a ${this.bytes.length}-byte file`,
        { offset: this.pos },
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  i8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return value;
  }

  i16(what: string): number {
    this.need(2, what);
    const value = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  i32(what: string): number {
    this.need(4, what);
    const value = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return value;
  }

  f32(what: string): number {
    this.need(4, what);
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  f64(what: string): number {
    this.need(8, what);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  i64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A u64 that must be a safe JS integer (throws OVERFLOW at the field's offset otherwise). */
  u64Number(what: string): number {
    const at = this.pos;
    const value = this.u64(what);
    return toSafeNumber(value, what, at);
  }

  /** gguf_string: u64 byte length, then UTF-8 bytes (not NUL-terminated; invalid UTF-8 becomes U+FFFD). */
  string(what: string): string {
    const at = this.pos;
    this.need(8, what);
    const lengthLow = this.view.getUint32(at, true);
    const lengthHigh = this.view.getUint32(at + 4, true);
    this.pos += 8;
    const nBytes = lengthHigh * 2 ** 32 + lengthLow; // exact below 2^53, and past any file beyond
    if (nBytes > this.bytes.length - this.pos) {
      const claimed = (BigInt(lengthHigh) << 32n) | BigInt(lengthLow);
      throw new GgufFormatError(
        "STRING_TOO_LONG",
        `${what} at offset ${at} claims ${claimed} bytes, only ${this.nRemaining} left in the file`,
        { offset: at },
      );
    }
    const start = this.pos;
    this.pos += nBytes;
    return this.text.toString("utf8", start, this.pos);
  }
}

/** Converts a u64 to a number, throwing OVERFLOW if it exceeds Number.MAX_SAFE_INTEGER. */
export function toSafeNumber(value: bigint, what: string, offset: number): number {
  if (value > MAX_SAFE_BIGINT || value < -MAX_SAFE_BIGINT) {
    throw new GgufFormatError("OVERFLOW", `${what} at offset ${offset} is ${value}, beyond Number.MAX_SAFE_INTEGER`, {
      offset,
    });
  }
  return Number(value);
}

