import { describe, expect, it } from "vitest";
import { decodeErrorPayload, decodeModelIdentity, encodeControl } from "../../src/protocol/control.js";

describe("protocol-control", () => {
  it("round-trips a model identity", () => {
    const identity = { protocolVersion: 1, fileBytes: 1185376, fingerprint: "ab12", nLayer: 5 };
    expect(decodeModelIdentity(encodeControl(identity))).toEqual(identity);
  });

  it("names the first field that is off, and rejects bytes that are not msgpack", () => {
    expect(() => decodeModelIdentity(encodeControl({ protocolVersion: 1, fileBytes: "big", fingerprint: "x", nLayer: 1 }))).toThrow(
      "model identity field fileBytes should be a number, got string",
    );
    expect(() => decodeErrorPayload(encodeControl([1, 2]))).toThrow(/not a map/);
    expect(() => decodeErrorPayload(new Uint8Array([0xdc, 0xff]))).toThrow(/not valid msgpack/);
  });
});
