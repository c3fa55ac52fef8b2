import { describe, expect, it } from "vitest";
import { decodeHeader, encodeHeader, HEADER_BYTES, MessageType, PayloadEncoding, type Header } from "../../src/protocol/header.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/message.js";

const HEADER: Header = {
  type: MessageType.ACTIVATIONS,
  requestId: 0x01020304,
  payloadBytes: 0x0a0b0c0d,
  position: 0x11223344,
  sequenceId: 0x5566,
  layerFrom: 3,
  layerTo: 7,
  nTokens: 0x0102,
  encoding: PayloadEncoding.Q8_0,
  flags: 0x80,
};

describe("protocol-header", () => {
  it("pins the 24-byte layout (golden bytes)", () => {
    const bytes = encodeHeader(HEADER);
    expect(bytes.length).toBe(HEADER_BYTES);
    // prettier-ignore
    expect(Array.from(bytes)).toEqual([
      0x4c, 0x53,             // magic "LS"
      0x03,                   // version
      0x04,                   // type ACTIVATIONS
      0x04, 0x03, 0x02, 0x01, // request id
      0x0d, 0x0c, 0x0b, 0x0a, // payload bytes
      0x44, 0x33, 0x22, 0x11, // position
      0x66, 0x55,             // sequence id
      0x03, 0x07,             // layers [3, 7)
      0x02, 0x01,             // n tokens
      0x03,                   // encoding Q8_0
      0x80,                   // flags
    ]);
  });

  it("round-trips", () => {
    expect(decodeHeader(encodeHeader(HEADER), HEADER.payloadBytes)).toEqual(HEADER);
  });

  const corrupt = (at: number, value: number) => {
    const bytes = encodeHeader({ ...HEADER, payloadBytes: 10 });
    bytes[at] = value;
    return bytes;
  };

  it.each([
    ["a short frame", new Uint8Array(23), "SHORT_HEADER"],
    ["a long frame", new Uint8Array(25), "SHORT_HEADER"],
    ["wrong magic", corrupt(0, 0x47), "BAD_MAGIC"],
    ["a newer version", corrupt(2, 4), "BAD_VERSION"],
    ["version 2 (no session in batches)", corrupt(2, 2), "BAD_VERSION"],
    ["version 1", corrupt(2, 1), "BAD_VERSION"],
    ["an unknown type", corrupt(3, 200), "BAD_TYPE"],
    ["an unknown encoding", corrupt(22, 99), "BAD_ENCODING"],
    ["a reversed layer range", corrupt(18, 9), "BAD_LAYER_RANGE"],
  ])("rejects %s", (_name, bytes, code) => {
    expect(() => decodeHeader(bytes as Uint8Array, 10)).toThrow(expect.objectContaining({ code }));
  });

  it("rejects a payload frame whose size differs from the declared length", () => {
    const bytes = encodeHeader({ ...HEADER, payloadBytes: 10 });
    expect(() => decodeHeader(bytes, 9)).toThrow(expect.objectContaining({ code: "PAYLOAD_SIZE_MISMATCH" }));
    expect(() => decodeHeader(bytes, 11)).toThrow(expect.objectContaining({ code: "PAYLOAD_SIZE_MISMATCH" }));
  });

  it("refuses to encode values that do not fit their fields", () => {
    expect(() => encodeHeader({ ...HEADER, layerTo: 256 })).toThrow(/layerTo = 256/);
    expect(() => encodeHeader({ ...HEADER, nTokens: -1 })).toThrow(/nTokens/);
    expect(() => encodeHeader({ ...HEADER, requestId: 1.5 })).toThrow(/requestId/);
  });

  it("only ever throws ProtocolError on random frames (seeded fuzz)", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const valid = encodeHeader({ ...HEADER, payloadBytes: 34 });
    for (let i = 0; i < 5000; i++) {
      const frames: Uint8Array[] = [];
      const nFrames = Math.floor(random() * 4);
      for (let f = 0; f < nFrames; f++) {
        const base = f === 0 && random() < 0.7 ? Uint8Array.from(valid) : new Uint8Array(Math.floor(random() * 40));
        for (let k = 0; k < 3; k++) if (base.length) base[Math.floor(random() * base.length)] = Math.floor(random() * 256);
        frames.push(base);
      }
      try {
        decodeMessage(frames);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }
  });
});

describe("protocol-message", () => {
  it("fills in the payload length and omits an empty payload frame", () => {
    const { payloadBytes: _, ...rest } = HEADER;
    const frames = encodeMessage(rest, new Uint8Array(68));
    expect(frames).toHaveLength(2);
    expect(decodeMessage(frames).header.payloadBytes).toBe(68);
    expect(encodeMessage({ ...rest, type: MessageType.PING })).toHaveLength(1);
  });
});
