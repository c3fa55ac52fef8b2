/** A message is frame 1 (the 24-byte header) and, optionally, frame 2 (the payload). */
import { ProtocolError } from "./errors.js";
import { decodeHeader, encodeHeader, HEADER_BYTES, type Header } from "./header.js";

export interface Message {
  readonly header: Header;
  readonly payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Frames for a message; the header's payloadBytes is filled in from the payload. */
export function encodeMessage(header: Omit<Header, "payloadBytes">, payload: Uint8Array = EMPTY): Uint8Array[] {
  const head = encodeHeader({ ...header, payloadBytes: payload.length });
  return payload.length > 0 ? [head, payload] : [head];
}

/** Checks and decodes received frames. Throws ProtocolError only. */
export function decodeMessage(frames: readonly Uint8Array[]): Message {
  if (frames.length === 0 || frames.length > 2) {
    throw new ProtocolError("SHORT_HEADER", `a message has 1 or 2 frames, got ${frames.length}`);
  }
  const payload = frames[1] ?? EMPTY;
  if (frames[0].length !== HEADER_BYTES) {
    throw new ProtocolError("SHORT_HEADER", `header frame is ${frames[0].length} bytes, expected ${HEADER_BYTES}`);
  }
  return { header: decodeHeader(frames[0], payload.length), payload };
}
