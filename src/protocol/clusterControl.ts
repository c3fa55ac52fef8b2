/**
 * Msgpack payloads of the cluster's control messages that carry more than a flat record:
 * HELLO (the root's own model identity), ASSIGN (the whole pipeline), STATS (counters).
 * Like control.ts, decoders check every field and throw ProtocolError("BAD_PAYLOAD").
 *
 * Replies: a worker acknowledges ASSIGN and TRUNCATE with a message of the same type, the
 * same request id and no payload; it answers STATS (no payload) with STATS (WorkerStats).
 */
import { unpack } from "msgpackr";
import { ProtocolError } from "./errors.js";
import { PayloadEncoding } from "./header.js";
import { isActivationEncoding, type ActivationEncoding } from "./activations.js";
import { decodeModelIdentity, encodeControl, type ModelIdentity } from "./control.js";
import { decodeHopTimings, decodeStatsRequest, decodeNodeFacts } from "./profileCodec.js";
import type { HopTiming, NodeFacts, RunnerStats } from "../telemetry/records.js";

/** HELLO: the root's identity, so the worker can log a refusal too. */
export type HelloPayload = ModelIdentity;
export const decodeHello = (payload: Uint8Array): HelloPayload => decodeModelIdentity(payload);

/** One stage of the pipeline: layers [layerFrom, layerTo) on worker `worker`. */
export interface PipelineStage {
  /** index into AssignPayload.addresses */
  readonly worker: number;
  readonly layerFrom: number;
  readonly layerTo: number;
}

/**
 * ASSIGN: the full pipeline (every stage, in layer order), so any worker knows where to send
 * its output, and a later re-assignment (a survivor taking over a dead worker's layers) is
 * one more ASSIGN with a new pipeline.
 */
export interface AssignPayload {
  /** the root's session (u32): the batches of this assignment carry it, and a worker holds one session at a time */
  readonly session: number;
  /** which entry of `addresses` the receiving worker is */
  readonly workerIndex: number;
  /** listen address of every worker, as the root reached it */
  readonly addresses: readonly string[];
  /** contiguous, in layer order, covering [0, nLayer) */
  readonly stages: readonly PipelineStage[];
  /** encoding of activations between workers and of the result */
  readonly encoding: ActivationEncoding;
  /** KV cache element type ("f16" | "f32") */
  readonly kvType: string;
  /** flash attention (llama.cpp's -fa numerics) with this many split-KV chunks; absent: classic attention */
  readonly flashKvChunks?: number;
  /** most positions per sequence */
  readonly contextSize: number;
  /** sequences the root runs at once: the worker's memory plan makes room for their KV caches (default 1) */
  readonly sequences?: number;
}

/** STATS: what a worker has done since its last ASSIGN (its layer runner's counters, and more; bad frames: since start). */
export interface WorkerStats extends RunnerStats {
  /** activation batches run */
  readonly batches: number;
  /** bytes of every message this worker sent onward (header + payload) */
  readonly wireBytesSent: number;
  readonly messagesSent: number;
  /** frames rejected since the worker started */
  readonly badFrames: number;
  /** with a `takeProfile` request: the hop records kept since the last such request */
  readonly profile?: readonly HopTiming[];
  /** with a `takeProfile` request: the worker's machine */
  readonly facts?: NodeFacts;
  /** when the request asked for it */
  readonly status?: WorkerStatus;
  /** the worker's resident memory now and its peak, in bytes */
  readonly rssBytes?: number;
  readonly peakRssBytes?: number;
  /** the memory budget of its layer host (0 before an ASSIGN) */
  readonly budgetBytes?: number;
}

/** STATS request payload: none, or this (msgpack). */
export interface StatsRequest {
  /** hand over the hop records (and forget them) with the machine facts */
  readonly takeProfile: boolean;
  /** add the worker's status (`layerstream status`) */
  readonly status?: boolean;
}

export function decodeStatsRequestPayload(payload: Uint8Array): StatsRequest {
  return decodeStatsRequest(unpackAny(payload, "stats request"));
}

export function decodeAssign(payload: Uint8Array): AssignPayload {
  const value = unpackMap(payload, "assign");
  const int = (v: unknown, what: string, min = 0) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw bad(`assign field ${what} should be an integer ≥ ${min}, got ${String(v)}`);
    return v;
  };
  const { session, workerIndex, addresses, stages, encoding, kvType, flashKvChunks, contextSize, sequences } = value;
  int(session, "session");
  if ((session as number) > 0xffffffff) throw bad(`assign session ${String(session)} is not a u32`);
  if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === "string")) {
    throw bad("assign field addresses should be a non-empty list of strings");
  }
  int(workerIndex, "workerIndex");
  if ((workerIndex as number) >= addresses.length) throw bad(`assign workerIndex ${workerIndex} is outside the ${addresses.length} addresses`);
  if (!Array.isArray(stages) || stages.length === 0) throw bad("assign field stages should be a non-empty list");
  let expectedFrom = 0;
  const checked = stages.map((stage: unknown, i) => {
    if (typeof stage !== "object" || stage === null) throw bad(`assign stage ${i} is not a map`);
    const s = stage as Record<string, unknown>;
    const worker = int(s.worker, `stages[${i}].worker`);
    const layerFrom = int(s.layerFrom, `stages[${i}].layerFrom`);
    const layerTo = int(s.layerTo, `stages[${i}].layerTo`, layerFrom + 1);
    if (worker >= addresses.length) throw bad(`assign stage ${i} names worker ${worker} of ${addresses.length}`);
    if (layerFrom !== expectedFrom) throw bad(`assign stage ${i} starts at layer ${layerFrom}, expected ${expectedFrom}`);
    expectedFrom = layerTo;
    return { worker, layerFrom, layerTo };
  });
  if (typeof encoding !== "number" || !(encoding in PayloadEncoding) || !isActivationEncoding(encoding)) {
    throw bad(`assign field encoding ${String(encoding)} is not an activation encoding`);
  }
  if (kvType !== "f16" && kvType !== "f32") throw bad(`assign field kvType should be "f16" or "f32", got ${String(kvType)}`);
  int(contextSize, "contextSize", 1);
  if (sequences !== undefined) int(sequences, "sequences", 1);
  if (flashKvChunks !== undefined && int(flashKvChunks, "flashKvChunks", 1) > 1024) throw bad(`assign field flashKvChunks ${String(flashKvChunks)} is above 1024`);
  return { session: session as number, workerIndex: workerIndex as number, addresses: addresses as string[], stages: checked, encoding, kvType, contextSize: contextSize as number, sequences: (sequences as number | undefined) ?? 1, ...(flashKvChunks === undefined ? {} : { flashKvChunks: flashKvChunks as number }) };
}

const STATS_FIELDS = ["computeSeconds", "batches", "wireBytesSent", "messagesSent", "badFrames", "layerRuns", "cacheHits", "cacheMisses", "bytesRead", "ioWaitSeconds", "readBusySeconds"] as const;

const OPTIONAL_STATS_FIELDS = ["rssBytes", "peakRssBytes", "budgetBytes"] as const;

export function decodeWorkerStats(payload: Uint8Array): WorkerStats {
  const value = unpackMap(payload, "stats");
  for (const key of STATS_FIELDS) {
    const field = value[key];
    if (typeof field !== "number" || !Number.isFinite(field) || field < 0) throw bad(`stats field ${key} should be a number ≥ 0, got ${String(field)}`);
  }
  for (const key of OPTIONAL_STATS_FIELDS) {
    const field = value[key];
    if (field !== undefined && (typeof field !== "number" || !Number.isFinite(field) || field < 0)) throw bad(`stats field ${key} should be a number ≥ 0, got ${String(field)}`);
  }
  const stats = value as unknown as WorkerStats;
  return {
    ...stats,
    profile: value.profile === undefined ? undefined : decodeHopTimings(value.profile),
    facts: value.facts === undefined ? undefined : decodeNodeFacts(value.facts),
    status: value.status === undefined ? undefined : decodeWorkerStatus(value.status),
  };
}

function unpackAny(payload: Uint8Array, what: string): unknown {
  try {
    return unpack(payload);
  } catch (error) {
    throw bad(`${what} payload is not valid msgpack: ${(error as Error).message}`);
  }
}

function unpackMap(payload: Uint8Array, what: string): Record<string, unknown> {
  const value = unpackAny(payload, what);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(`${what} payload is not a map`);
  return value as Record<string, unknown>;
}

function bad(message: string): ProtocolError {
  return new ProtocolError("BAD_PAYLOAD", message);
}

/**
 * What a worker can give, reported in its HELLO reply for placement (`--assign auto`) and
 * `layerstream status`: its memory, its budget, how fast it reads its model file and how long
 * one layer takes it.
 */
export interface WorkerCapacity {
  /** all the worker may hold for its layers: its --max-memory, else available memory less a margin */
  readonly budgetBytes: number;
  /** budgetBytes is the worker's --max-memory (not taken from available memory) */
  readonly budgetGiven: boolean;
  /** memory available on the machine when it answered */
  readonly freeMemoryBytes: number;
  /** reading its model file, bytes per second (measured at start; the page cache counts) */
  readonly diskBytesPerSecond: number;
  /** one token through one layer, seconds (timed at start) */
  readonly layerSeconds: number;
  readonly threads: number;
}

/** HELLO reply: the worker's model identity (the fields of ModelIdentity), and what it can give. */
export interface HelloReply {
  readonly identity: ModelIdentity;
  readonly capacity?: WorkerCapacity;
}

const CAPACITY_FIELDS = ["budgetBytes", "freeMemoryBytes", "diskBytesPerSecond", "layerSeconds", "threads"] as const;

export function encodeHelloReply(reply: HelloReply): Uint8Array {
  return encodeControl(reply.capacity ? { ...reply.identity, capacity: reply.capacity } : reply.identity);
}

export function decodeHelloReply(payload: Uint8Array): HelloReply {
  const identity = decodeModelIdentity(payload);
  const { capacity: raw, ...rest } = identity as ModelIdentity & { capacity?: unknown };
  return raw === undefined ? { identity: rest } : { identity: rest, capacity: decodeCapacity(raw, "hello reply") };
}

function decodeCapacity(raw: unknown, what: string): WorkerCapacity {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad(`${what} field capacity is not a map`);
  const value = raw as Record<string, unknown>;
  for (const key of CAPACITY_FIELDS) {
    const field = value[key];
    if (typeof field !== "number" || !Number.isFinite(field) || field < 0) throw bad(`${what} capacity field ${key} should be a number ≥ 0, got ${String(field)}`);
  }
  if (typeof value.budgetGiven !== "boolean") throw bad(`${what} capacity field budgetGiven should be a boolean`);
  return value as unknown as WorkerCapacity;
}

/** What `layerstream status` shows of a worker: its models, its session's layers and memory, what it can give. */
export interface WorkerStatus {
  readonly models: readonly { readonly file: string; readonly nLayer: number; readonly fileBytes: number }[];
  /** the root session it serves, if any */
  readonly session?: { readonly id: number; readonly layers: readonly number[]; readonly layersResident: number; readonly budgetBytes: number; readonly sequences: number };
  readonly capacity?: WorkerCapacity;
}

function decodeWorkerStatus(raw: unknown): WorkerStatus {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("stats field status is not a map");
  const value = raw as Record<string, unknown>;
  const models = value.models;
  if (!Array.isArray(models) || !models.every((m) => typeof m === "object" && m !== null && typeof (m as { file?: unknown }).file === "string")) throw bad("status field models should be a list of models");
  const session = value.session as WorkerStatus["session"] | undefined;
  if (session !== undefined && (typeof session !== "object" || session === null || !Array.isArray(session.layers) || typeof session.id !== "number")) throw bad("status field session is malformed");
  const capacity = value.capacity === undefined ? undefined : decodeCapacity(value.capacity, "status");
  return { models: models as WorkerStatus["models"], session, capacity };
}
