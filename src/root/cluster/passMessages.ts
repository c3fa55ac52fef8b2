/**
 * One forward pass as cluster messages: the ACTIVATIONS request the root sends to the first
 * stage (every sequence of the call in one batch), and the RESULT that comes back, checked
 * against what was asked and split per sequence.
 */
import type { LayerRange, OutputRows, SequenceBatch } from "../../engine/model/layerRunner.js";
import type { ActivationEncoding } from "../../protocol/activations.js";
import { decodeBatch, encodeBatch, type DecodedBatch } from "../../protocol/batch.js";
import type { PipelineStage } from "../../protocol/clusterControl.js";
import { FLAG_PROFILE, MessageType, type Header } from "../../protocol/header.js";
import { ClusterError } from "./workerLinks.js";

export interface PassRequest {
  readonly header: Omit<Header, "payloadBytes">;
  readonly payload: Uint8Array;
  /** rows sent, over all sequences */
  readonly nRows: number;
}

export interface PassShape {
  readonly session: number;
  readonly requestId: number;
  readonly nEmbd: number;
  readonly encoding: ActivationEncoding;
  readonly rows: OutputRows;
  readonly profiled: boolean;
}

/** The ACTIVATIONS message for `batches` entering `stage` (the stage holding range.from). */
export function passRequest(batches: readonly SequenceBatch[], range: LayerRange, stage: PipelineStage, shape: PassShape): PassRequest {
  const { nEmbd, encoding } = shape;
  const nRows = batches.reduce((n, b) => n + b.nTokens, 0);
  const values = new Float32Array(nRows * nEmbd);
  let at = 0;
  for (const b of batches) {
    values.set(b.hidden.subarray(0, b.nTokens * nEmbd), at);
    at += b.nTokens * nEmbd;
  }
  const sequences = batches.map(({ sequenceId, position, nTokens }) => ({ sequenceId, position, nTokens }));
  const header: Omit<Header, "payloadBytes"> = {
    type: MessageType.ACTIVATIONS,
    requestId: shape.requestId,
    position: batches[0].position,
    sequenceId: batches[0].sequenceId,
    layerFrom: range.from,
    layerTo: Math.min(stage.layerTo, range.to),
    nTokens: nRows,
    encoding,
    flags: shape.profiled ? FLAG_PROFILE : 0,
  };
  return { header, payload: encodeBatch({ session: shape.session, endLayer: range.to, rows: shape.rows, sequences }, values, encoding), nRows };
}

/** The RESULT, checked against what was sent, split per sequence. @param worker its sender, for messages */
export function splitResult(header: Header, payload: Uint8Array, batches: readonly SequenceBatch[], shape: PassShape, worker: string): Float32Array[] {
  const { rows, nEmbd } = shape;
  let result: DecodedBatch;
  try {
    result = decodeBatch(payload, header, nEmbd);
  } catch (error) {
    throw new ClusterError("BAD_REPLY", `worker ${worker} sent a malformed RESULT: ${(error as Error).message}`);
  }
  if (result.session !== shape.session) throw new ClusterError("BAD_REPLY", `worker ${worker} sent a RESULT of session ${result.session}, not ${shape.session}`);
  const expected = batches.map((b) => (rows === "all" ? b : { sequenceId: b.sequenceId, position: b.position + b.nTokens - 1, nTokens: 1 }));
  const matches = result.sequences.length === expected.length && result.sequences.every((s, i) => s.sequenceId === expected[i].sequenceId && s.nTokens === expected[i].nTokens);
  if (!matches) throw new ClusterError("BAD_REPLY", `worker ${worker} sent a RESULT for other sequences or rows than were asked for`);
  const misplaced = result.sequences.findIndex((s, i) => s.position !== expected[i].position);
  if (misplaced >= 0) {
    const s = result.sequences[misplaced];
    throw new ClusterError("BAD_REPLY", `worker ${worker} sent a RESULT of sequence ${s.sequenceId} at position ${s.position}, not ${expected[misplaced].position}`);
  }
  let at = 0;
  return result.sequences.map((s) => {
    const out = result.values.subarray(at, at + s.nTokens * nEmbd);
    at += s.nTokens * nEmbd;
    return out;
  });
}
