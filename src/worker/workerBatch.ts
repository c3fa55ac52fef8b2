/**
 * A worker's handling of one ACTIVATIONS message: decode the batch, run its layers over every
 * sequence in it, and pass the activations on — to the next stage's worker, or, at the end of
 * the pass, the rows asked for back to the root as RESULT.
 */
import type { SequenceBatch } from "../engine/model/layerRunner.js";
import { decodeBatch, encodeBatch, type DecodedBatch } from "../protocol/batch.js";
import { MessageType, type Header } from "../protocol/header.js";
import { encodeMessage } from "../protocol/message.js";
import { ProtocolError } from "../protocol/errors.js";
import { HopCapture, NULL_RECORDER } from "../telemetry/recorder.js";
import type { HopTiming, LayerTiming } from "../telemetry/records.js";
import type { WorkerSession } from "./workerSession.js";
import { checkBatchTokens, checkSequences, type WorkerLimits } from "./workerLimits.js";

export type Frames = Uint8Array[];

/** What to send after running a batch, and how long each part took. */
export interface BatchOutcome {
  /** frames for the next worker (at `address`), or for the root */
  readonly to: { readonly kind: "worker"; readonly address: string } | { readonly kind: "root" };
  readonly frames: Frames;
  readonly decodeMs: number;
  readonly computeMs: number;
  readonly encodeMs: number;
  /** the runner's per-layer timings (profiled batches only) */
  readonly layers: readonly LayerTiming[];
}

/**
 * Runs an ACTIVATIONS message's layers; throws ProtocolError for a batch that is not this
 * worker's (another session, layers it does not run) or over its limits.
 */
export async function runBatch(session: WorkerSession, header: Header, payload: Uint8Array, profiled: boolean, limits: WorkerLimits): Promise<BatchOutcome> {
  const t0 = performance.now();
  const { assignment } = session;
  const nEmbd = session.served.model.hparams.nEmbd;
  if (header.nTokens === 0) throw new ProtocolError("BAD_VALUE", "an activation batch needs at least one token");
  checkBatchTokens(header.nTokens, limits);
  const batch = decodeBatch(payload, header, nEmbd);
  session.checkBatch(batch.session);
  const runner = assignment.host.runner;
  checkSequences(runner.sequenceCount, batch.sequences.filter((s) => !runner.hasSequence(s.sequenceId)).length, limits);
  const stageIndex = assignment.stageFor(header.layerFrom, header.layerTo, batch.endLayer);
  const t1 = performance.now();
  const capture = profiled ? new HopCapture() : undefined;
  const final = header.layerTo === batch.endLayer;
  const rows = final ? batch.rows : "all";
  const out = await runner.run(splitSequences(batch, nEmbd), { from: header.layerFrom, to: header.layerTo }, { rows, recorder: capture ?? NULL_RECORDER });
  const t2 = performance.now();
  const encoding = assignment.plan.encoding;
  const values = concatRows(out);
  const next = assignment.nextHop(stageIndex);
  let frames: Frames;
  let to: BatchOutcome["to"];
  if (!final && next.kind === "worker") {
    const nextHeader = { ...header, layerFrom: header.layerTo, layerTo: Math.min(next.stage.layerTo, batch.endLayer), encoding };
    frames = encodeMessage(nextHeader, encodeBatch(batch, values, encoding));
    to = { kind: "worker", address: next.address };
  } else {
    const sequences = rows === "all" ? batch.sequences : batch.sequences.map((s) => ({ sequenceId: s.sequenceId, position: s.position + s.nTokens - 1, nTokens: 1 }));
    const nRows = sequences.reduce((n, s) => n + s.nTokens, 0);
    const resultHeader = { ...header, type: MessageType.RESULT, position: sequences[0].position, nTokens: nRows, encoding };
    frames = encodeMessage(resultHeader, encodeBatch({ session: batch.session, endLayer: batch.endLayer, rows, sequences }, values, encoding));
    to = { kind: "root" };
  }
  const layers = capture?.hops[0]?.layers ?? [];
  return { to, frames, decodeMs: t1 - t0, computeMs: t2 - t1, encodeMs: performance.now() - t2, layers };
}

/** The hop record of a profiled batch, with offsets from its receipt. */
export function hopRecord(node: number, header: Header, outcome: BatchOutcome, queueMs: number, totalMs: number): HopTiming {
  const computeStartMs = queueMs + outcome.decodeMs;
  return {
    node,
    requestId: header.requestId,
    sequenceId: header.sequenceId,
    position: header.position,
    nTokens: header.nTokens,
    queueMs,
    decodeMs: outcome.decodeMs,
    encodeMs: outcome.encodeMs,
    bytesSent: outcome.frames.reduce((n, f) => n + f.length, 0),
    layers: outcome.layers.map((l) => ({ ...l, startAtMs: l.startAtMs + computeStartMs, endAtMs: l.endAtMs + computeStartMs })),
    totalMs,
  };
}

function splitSequences(batch: DecodedBatch, nEmbd: number): SequenceBatch[] {
  let at = 0;
  return batch.sequences.map((s) => {
    const hidden = batch.values.subarray(at, at + s.nTokens * nEmbd);
    at += s.nTokens * nEmbd;
    return { sequenceId: s.sequenceId, position: s.position, nTokens: s.nTokens, hidden };
  });
}

function concatRows(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
