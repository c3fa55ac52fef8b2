/**
 * The 24-byte control header that is frame 1 of every message (frame 2, optional, is the
 * payload). Little-endian; byte layout in docs/protocol.md.
 *
 * | offset | size | field |
 * |---:|---:|---|
 * | 0 | 2 | magic, the bytes "LS" |
 * | 2 | 1 | protocol version |
 * | 3 | 1 | message type |
 * | 4 | 4 | request id (u32) |
 * | 8 | 4 | payload length in bytes (u32) |
 * | 12 | 4 | position of the first token (u32) |
 * | 16 | 2 | sequence id (u16) |
 * | 18 | 1 | first layer (u8) |
 * | 19 | 1 | end layer, exclusive (u8) |
 * | 20 | 2 | number of tokens (u16) |
 * | 22 | 1 | payload encoding |
 * | 23 | 1 | flags |
 */
import { ProtocolError } from "./errors.js";

export const HEADER_BYTES = 24;
export const MAGIC = [0x4c, 0x53] as const; // "LS"
export const PROTOCOL_VERSION = 3;

export const OFFSET = {
  magic: 0,
  version: 2,
  type: 3,
  requestId: 4,
  payloadBytes: 8,
  position: 12,
  sequenceId: 16,
  layerFrom: 18,
  layerTo: 19,
  nTokens: 20,
  encoding: 22,
  flags: 23,
} as const;

export enum MessageType {
  /** root → worker: who are you (msgpack: protocol version) */
  HELLO = 1,
  /** worker → root: model identity (msgpack) */
  HELLO_REPLY = 2,
  /** root → worker: layers to run and where to send results (msgpack) */
  ASSIGN = 3,
  /** hidden states entering layerFrom (activations) */
  ACTIVATIONS = 4,
  /** hidden states leaving layerTo − 1, back to the root (activations) */
  RESULT = 5,
  /** forget a sequence's cache from `position` on */
  TRUNCATE = 6,
  /** timings and counters (msgpack) */
  STATS = 7,
  /** a request failed or a frame was rejected (msgpack: code, message) */
  ERROR = 8,
  PING = 9,
  PONG = 10,
}

export enum PayloadEncoding {
  NONE = 0,
  F32 = 1,
  F16 = 2,
  /** per 32 values: f16 scale + 32 int8 = 34 bytes */
  Q8_0 = 3,
  MSGPACK = 4,
}

/** Header flag on ACTIVATIONS: time this batch on every hop (workers keep a HopTiming until STATS takes it). */
export const FLAG_PROFILE = 0x01;

export interface Header {
  readonly type: MessageType;
  readonly requestId: number;
  readonly payloadBytes: number;
  readonly position: number;
  readonly sequenceId: number;
  readonly layerFrom: number;
  readonly layerTo: number;
  readonly nTokens: number;
  readonly encoding: PayloadEncoding;
  readonly flags: number;
}

const FIELD_LIMITS: ReadonlyArray<[keyof Header, number]> = [
  ["requestId", 0xffffffff],
  ["payloadBytes", 0xffffffff],
  ["position", 0xffffffff],
  ["sequenceId", 0xffff],
  ["layerFrom", 0xff],
  ["layerTo", 0xff],
  ["nTokens", 0xffff],
  ["flags", 0xff],
];

export function encodeHeader(header: Header): Uint8Array {
  for (const [field, max] of FIELD_LIMITS) {
    const value = header[field] as number;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new ProtocolError("BAD_VALUE", `header field ${field} = ${value} is outside [0, ${max}]`);
    }
  }
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[OFFSET.magic] = MAGIC[0];
  bytes[OFFSET.magic + 1] = MAGIC[1];
  view.setUint8(OFFSET.version, PROTOCOL_VERSION);
  view.setUint8(OFFSET.type, header.type);
  view.setUint32(OFFSET.requestId, header.requestId, true);
  view.setUint32(OFFSET.payloadBytes, header.payloadBytes, true);
  view.setUint32(OFFSET.position, header.position, true);
  view.setUint16(OFFSET.sequenceId, header.sequenceId, true);
  view.setUint8(OFFSET.layerFrom, header.layerFrom);
  view.setUint8(OFFSET.layerTo, header.layerTo);
  view.setUint16(OFFSET.nTokens, header.nTokens, true);
  view.setUint8(OFFSET.encoding, header.encoding);
  view.setUint8(OFFSET.flags, header.flags);
  return bytes;
}

/**
 * Decodes and checks a header frame; `payloadFrameBytes` is the size of the payload frame
 * actually received (0 when there is none), checked against the declared length.
 */
export function decodeHeader(frame: Uint8Array, payloadFrameBytes: number): Header {
  if (frame.length !== HEADER_BYTES) {
    throw new ProtocolError("SHORT_HEADER", `header frame is ${frame.length} bytes, expected ${HEADER_BYTES}`);
  }
  if (frame[0] !== MAGIC[0] || frame[1] !== MAGIC[1]) {
    throw new ProtocolError("BAD_MAGIC", `bad magic 0x${hex(frame[0])}${hex(frame[1])}, expected "LS"`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = view.getUint8(OFFSET.version);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError("BAD_VERSION", `protocol version ${version}, expected ${PROTOCOL_VERSION}`);
  const type = view.getUint8(OFFSET.type);
  if (!(type in MessageType)) throw new ProtocolError("BAD_TYPE", `unknown message type ${type}`);
  const encoding = view.getUint8(OFFSET.encoding);
  if (!(encoding in PayloadEncoding)) throw new ProtocolError("BAD_ENCODING", `unknown payload encoding ${encoding}`);
  const header: Header = {
    type,
    requestId: view.getUint32(OFFSET.requestId, true),
    payloadBytes: view.getUint32(OFFSET.payloadBytes, true),
    position: view.getUint32(OFFSET.position, true),
    sequenceId: view.getUint16(OFFSET.sequenceId, true),
    layerFrom: view.getUint8(OFFSET.layerFrom),
    layerTo: view.getUint8(OFFSET.layerTo),
    nTokens: view.getUint16(OFFSET.nTokens, true),
    encoding,
    flags: view.getUint8(OFFSET.flags),
  };
  if (header.payloadBytes !== payloadFrameBytes) {
    throw new ProtocolError("PAYLOAD_SIZE_MISMATCH", `header declares a ${header.payloadBytes}-byte payload, frame has ${payloadFrameBytes}`);
  }
  if (header.layerFrom > header.layerTo) {
    throw new ProtocolError("BAD_LAYER_RANGE", `layer range [${header.layerFrom}, ${header.layerTo}) is reversed`);
  }
  return header;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

const NO_LAYERS = { position: 0, sequenceId: 0, layerFrom: 0, layerTo: 0, nTokens: 0, flags: 0 } as const;

/** The header of a control message (HELLO, ASSIGN, TRUNCATE, STATS, ERROR, …): no layers, no tokens. */
export function controlHeader(type: MessageType, requestId: number, encoding = PayloadEncoding.MSGPACK): Omit<Header, "payloadBytes"> {
  return { ...NO_LAYERS, type, requestId, encoding };
}
