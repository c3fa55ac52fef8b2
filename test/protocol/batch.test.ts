import { describe, expect, it } from "vitest";
import { batchBytes, decodeBatch, encodeBatch } from "../../src/protocol/batch.js";
import { PayloadEncoding } from "../../src/protocol/header.js";

const N_EMBD = 32;

function values(nRows: number): Float32Array {
  return Float32Array.from({ length: nRows * N_EMBD }, (_, i) => (i % 7) - 3);
}

describe("protocol-batch", () => {
  const descriptor = {
    session: 0x11223344,
    endLayer: 9,
    rows: "all" as const,
    sequences: [
      { sequenceId: 0x0102, position: 0x0a0b0c0d, nTokens: 2 },
      { sequenceId: 7, position: 3, nTokens: 1 },
    ],
  };

  it("pins the descriptor layout (golden bytes) and round-trips", () => {
    const payload = encodeBatch(descriptor, values(3), PayloadEncoding.F32);
    // prettier-ignore
    expect(Array.from(payload.subarray(0, 24))).toEqual([
      0x09,                   // end layer
      0x01,                   // rows: all
      0x02, 0x00,             // 2 sequences
      0x44, 0x33, 0x22, 0x11, // session 0x11223344
      0x02, 0x01, 0x02, 0x00, 0x0d, 0x0c, 0x0b, 0x0a, // sequence 0x0102, 2 rows, position 0x0a0b0c0d
      0x07, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, // sequence 7, 1 row, position 3
    ]);
    expect(payload.length).toBe(batchBytes(2, 3, N_EMBD, PayloadEncoding.F32));
    const decoded = decodeBatch(payload, { nTokens: 3, encoding: PayloadEncoding.F32 }, N_EMBD);
    expect(decoded).toMatchObject(descriptor);
    expect(Array.from(decoded.values)).toEqual(Array.from(values(3)));
  });

  it("q8_0 activations follow the descriptor", () => {
    const payload = encodeBatch({ ...descriptor, rows: "last" }, values(3), PayloadEncoding.Q8_0);
    expect(payload.length).toBe(8 + 16 + 3 * 34);
    const decoded = decodeBatch(payload, { nTokens: 3, encoding: PayloadEncoding.Q8_0 }, N_EMBD);
    expect(decoded.rows).toBe("last");
    const original = values(3);
    expect(decoded.values.every((v, i) => Math.abs(v - original[i]) < 0.01)).toBe(true);
  });

  const good = encodeBatch(descriptor, values(3), PayloadEncoding.F32);
  const withByte = (at: number, value: number) => Uint8Array.from(good, (b, i) => (i === at ? value : b));
  it.each([
    ["a payload shorter than the descriptor", good.subarray(0, 7), 3],
    ["no sequence", withByte(2, 0), 3],
    ["a rows code that is neither last nor all", withByte(1, 5), 3],
    ["rows that do not add up to the header's tokens", good, 4],
    ["a sequence with no rows", Uint8Array.from(good, (b, i) => (i === 18 ? 0 : b)), 2],
    ["a sequence named twice", Uint8Array.from(good, (b, i) => (i === 16 ? 0x02 : i === 17 ? 0x01 : b)), 3],
    ["activations cut short", good.subarray(0, good.length - 4), 3],
  ])("rejects %s", (_what, payload, nTokens) => {
    expect(() => decodeBatch(payload as Uint8Array, { nTokens: nTokens as number, encoding: PayloadEncoding.F32 }, N_EMBD)).toThrow(expect.objectContaining({ code: "BAD_PAYLOAD" }));
  });

  it("refuses to encode what the fields cannot hold", () => {
    expect(() => encodeBatch({ ...descriptor, endLayer: 256 }, values(3), PayloadEncoding.F32)).toThrow(/end layer 256/);
    expect(() => encodeBatch({ ...descriptor, sequences: [] }, values(0), PayloadEncoding.F32)).toThrow(/1 to 65535 sequences/);
  });
});
