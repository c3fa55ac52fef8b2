/**
 * Activation payloads: hidden states f32 [nTokens, nEmbd] as f32, f16 or Q8_0 on the wire.
 * Q8_0 packs each run of 32 values as an f16 scale d = max|x|/127 and 32 int8 codes
 * round(x/d) (ties to even): 34 bytes per 32 values, 3.76× smaller than f32.
 */
import { ProtocolError } from "./errors.js";
import { PayloadEncoding } from "./header.js";
import { f16ToF32 as fromHalf, f32ToF16 as toHalf } from "../engine/ggml/fp16.js";

export const Q8_0_BLOCK_VALUES = 32;
export const Q8_0_BLOCK_BYTES = 34;

export type ActivationEncoding = PayloadEncoding.F32 | PayloadEncoding.F16 | PayloadEncoding.Q8_0;

/** Bytes needed for `nValues` values in `encoding`. */
export function activationBytes(encoding: ActivationEncoding, nValues: number): number {
  switch (encoding) {
    case PayloadEncoding.F32:
      return 4 * nValues;
    case PayloadEncoding.F16:
      return 2 * nValues;
    case PayloadEncoding.Q8_0:
      if (nValues % Q8_0_BLOCK_VALUES !== 0) {
        throw new ProtocolError("BAD_VALUE", `q8_0 needs a multiple of ${Q8_0_BLOCK_VALUES} values, got ${nValues}`);
      }
      return (nValues / Q8_0_BLOCK_VALUES) * Q8_0_BLOCK_BYTES;
  }
}

const CODECS: Record<ActivationEncoding, { encode(src: Float32Array, dst: DataView): void; decode(src: DataView, dst: Float32Array): void }> = {
  [PayloadEncoding.F32]: {
    encode: (src, dst) => src.forEach((v, i) => dst.setFloat32(4 * i, v, true)),
    decode: (src, dst) => dst.forEach((_, i) => (dst[i] = src.getFloat32(4 * i, true))),
  },
  [PayloadEncoding.F16]: {
    encode: (src, dst) => src.forEach((v, i) => dst.setUint16(2 * i, toHalf(v), true)),
    decode: (src, dst) => dst.forEach((_, i) => (dst[i] = fromHalf(src.getUint16(2 * i, true)))),
  },
  [PayloadEncoding.Q8_0]: {
    encode(src, dst) {
      for (let b = 0; b < src.length / Q8_0_BLOCK_VALUES; b++) {
        const at = b * Q8_0_BLOCK_VALUES;
        let amax = 0;
        for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) amax = Math.max(amax, Math.abs(src[at + j]));
        const d = amax / 127;
        const id = amax ? 127 / amax : 0;
        const out = b * Q8_0_BLOCK_BYTES;
        dst.setUint16(out, toHalf(d), true);
        for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) dst.setInt8(out + 2 + j, roundHalfEven(src[at + j] * id));
      }
    },
    decode(src, dst) {
      for (let b = 0; b < dst.length / Q8_0_BLOCK_VALUES; b++) {
        const at = b * Q8_0_BLOCK_BYTES;
        const d = fromHalf(src.getUint16(at, true));
        for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) dst[b * Q8_0_BLOCK_VALUES + j] = src.getInt8(at + 2 + j) * d;
      }
    },
  },
};

export function isActivationEncoding(encoding: PayloadEncoding): encoding is ActivationEncoding {
  return encoding === PayloadEncoding.F32 || encoding === PayloadEncoding.F16 || encoding === PayloadEncoding.Q8_0;
}

export function encodeActivations(values: Float32Array, encoding: ActivationEncoding): Uint8Array {
  const bytes = new Uint8Array(activationBytes(encoding, values.length));
  CODECS[encoding].encode(values, new DataView(bytes.buffer));
  return bytes;
}

/** Decodes `nValues` values, checking the payload is exactly the right size. */
export function decodeActivations(payload: Uint8Array, encoding: PayloadEncoding, nValues: number): Float32Array {
  if (!isActivationEncoding(encoding)) throw new ProtocolError("BAD_ENCODING", `encoding ${encoding} does not carry activations`);
  const expected = activationBytes(encoding, nValues);
  if (payload.length !== expected) {
    throw new ProtocolError("BAD_PAYLOAD", `${PayloadEncoding[encoding]} payload for ${nValues} values must be ${expected} bytes, got ${payload.length}`);
  }
  const out = new Float32Array(nValues);
  CODECS[encoding].decode(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), out);
  return out;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
