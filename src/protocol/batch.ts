/**
 * ACTIVATIONS and RESULT payloads (protocol version 3): a batch descriptor, then the
 * activations of every row of every sequence in it, in order.
 *
 * | offset | size | field |
 * |---:|---:|---|
 * | 0 | 1 | end layer: the pass stops before it; the stage that reaches it sends RESULT to the root |
 * | 1 | 1 | rows: 0 = each sequence's last row comes back, 1 = every row |
 * | 2 | 2 | number of sequences n (u16, ≥ 1) |
 * | 4 | 4 | session: the root session (ASSIGN) whose sequences these are (u32) |
 * | 8 + 8i | 2 | sequence i: sequence id (u16) |
 * | 10 + 8i | 2 | sequence i: rows in this payload (u16, ≥ 1) |
 * | 12 + 8i | 4 | sequence i: position of its first row (u32) |
 * | 8 + 8n | … | activations, Σ rows × nEmbd values in the header's encoding |
 *
 * The header's `tokens` field is the total of the rows; its `position` and `sequence id` are
 * the first sequence's (for logs).
 */
import { ProtocolError } from "./errors.js";
import { activationBytes, decodeActivations, encodeActivations, type ActivationEncoding } from "./activations.js";
import type { Header } from "./header.js";

export type WireRows = "last" | "all";

export interface WireSequence {
  readonly sequenceId: number;
  readonly position: number;
  /** rows of this sequence in the payload */
  readonly nTokens: number;
}

export interface BatchDescriptor {
  /** the root session these sequences belong to (a worker serves one session's KV caches only) */
  readonly session: number;
  readonly endLayer: number;
  readonly rows: WireRows;
  readonly sequences: readonly WireSequence[];
}

export interface DecodedBatch extends BatchDescriptor {
  /** f32 [Σ nTokens, nEmbd] */
  readonly values: Float32Array;
}

const FIXED_BYTES = 8;
const PER_SEQUENCE_BYTES = 8;
const MAX_SEQUENCES = 0xffff;

/** Payload bytes of a batch: the descriptor and the encoded activations. */
export function encodeBatch(descriptor: BatchDescriptor, values: Float32Array, encoding: ActivationEncoding): Uint8Array {
  const { sequences } = descriptor;
  if (sequences.length === 0 || sequences.length > MAX_SEQUENCES) throw new ProtocolError("BAD_VALUE", `a batch carries 1 to ${MAX_SEQUENCES} sequences, got ${sequences.length}`);
  const activations = encodeActivations(values, encoding);
  const headBytes = FIXED_BYTES + PER_SEQUENCE_BYTES * sequences.length;
  const bytes = new Uint8Array(headBytes + activations.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, checkRange(descriptor.endLayer, 0xff, "end layer"));
  view.setUint8(1, descriptor.rows === "all" ? 1 : 0);
  view.setUint16(2, sequences.length, true);
  view.setUint32(4, checkRange(descriptor.session, 0xffffffff, "session"), true);
  sequences.forEach((s, i) => {
    const at = FIXED_BYTES + PER_SEQUENCE_BYTES * i;
    view.setUint16(at, checkRange(s.sequenceId, 0xffff, "sequence id"), true);
    view.setUint16(at + 2, checkRange(s.nTokens, 0xffff, "rows"), true);
    view.setUint32(at + 4, checkRange(s.position, 0xffffffff, "position"), true);
  });
  bytes.set(activations, headBytes);
  return bytes;
}

/**
 * Checks and decodes a batch payload against its header: the descriptor, its rows adding up to
 * the header's tokens, distinct sequences, and exactly the activation bytes those rows need.
 */
export function decodeBatch(payload: Uint8Array, header: Pick<Header, "nTokens" | "encoding">, nEmbd: number): DecodedBatch {
  if (payload.length < FIXED_BYTES) throw new ProtocolError("BAD_PAYLOAD", `a batch payload starts with ${FIXED_BYTES} descriptor bytes, got ${payload.length}`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const rowsCode = view.getUint8(1);
  if (rowsCode > 1) throw new ProtocolError("BAD_PAYLOAD", `batch rows code ${rowsCode} is neither 0 (last) nor 1 (all)`);
  const nSequences = view.getUint16(2, true);
  const headBytes = FIXED_BYTES + PER_SEQUENCE_BYTES * nSequences;
  if (nSequences === 0) throw new ProtocolError("BAD_PAYLOAD", "a batch carries no sequence");
  if (payload.length < headBytes) throw new ProtocolError("BAD_PAYLOAD", `a batch of ${nSequences} sequences needs a ${headBytes}-byte descriptor, payload is ${payload.length} bytes`);
  const sequences = readSequences(view, nSequences);
  const nRows = sequences.reduce((n, s) => n + s.nTokens, 0);
  if (nRows !== header.nTokens) throw new ProtocolError("BAD_PAYLOAD", `the batch's sequences hold ${nRows} rows, the header says ${header.nTokens}`);
  const activations = payload.subarray(headBytes);
  const values = decodeActivations(activations, header.encoding, nRows * nEmbd);
  return { session: view.getUint32(4, true), endLayer: view.getUint8(0), rows: rowsCode === 1 ? "all" : "last", sequences, values };
}

/** Payload bytes a batch of these rows takes (descriptor included). */
export function batchBytes(nSequences: number, nRows: number, nEmbd: number, encoding: ActivationEncoding): number {
  return FIXED_BYTES + PER_SEQUENCE_BYTES * nSequences + activationBytes(encoding, nRows * nEmbd);
}

function readSequences(view: DataView, nSequences: number): WireSequence[] {
  const sequences: WireSequence[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < nSequences; i++) {
    const at = FIXED_BYTES + PER_SEQUENCE_BYTES * i;
    const sequence = { sequenceId: view.getUint16(at, true), nTokens: view.getUint16(at + 2, true), position: view.getUint32(at + 4, true) };
    if (sequence.nTokens === 0) throw new ProtocolError("BAD_PAYLOAD", `sequence ${sequence.sequenceId} has no rows`);
    if (seen.has(sequence.sequenceId)) throw new ProtocolError("BAD_PAYLOAD", `sequence ${sequence.sequenceId} appears twice in one batch`);
    seen.add(sequence.sequenceId);
    sequences.push(sequence);
  }
  return sequences;
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new ProtocolError("BAD_VALUE", `${what} ${value} is outside [0, ${max}]`);
  return value;
}
