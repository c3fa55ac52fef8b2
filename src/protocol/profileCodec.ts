/**
 * Validation of the profile parts of STATS payloads (msgpack): the request's `takeProfile`,
 * and the reply's `profile` (HopTiming[]) and `facts` (NodeFacts). Everything a peer sends is
 * checked; anything off throws ProtocolError("BAD_PAYLOAD").
 */
import { ProtocolError } from "./errors.js";
import { BLOCK_OPS, type HopTiming, type LayerTiming, type NodeFacts } from "../telemetry/records.js";

/** Most hop records one STATS reply may carry. */
export const MAX_PROFILE_HOPS = 1 << 20;

type Obj = Record<string, unknown>;

function bad(message: string): ProtocolError {
  return new ProtocolError("BAD_PAYLOAD", message);
}

function object(value: unknown, what: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(`${what} is not a map`);
  return value as Obj;
}

function num(o: Obj, key: string, what: string, { integer = false, min = -Infinity } = {}): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    throw bad(`${what}.${key} should be a${integer ? "n integer" : " finite number"} ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string") throw bad(`${what}.${key} should be a string, got ${typeof v}`);
  return v;
}

function decodeLayerTiming(value: unknown, what: string): LayerTiming {
  const o = object(value, what);
  if (typeof o.cacheHit !== "boolean") throw bad(`${what}.cacheHit should be a boolean`);
  const ops = object(o.opMs, `${what}.opMs`);
  const opMs = Object.fromEntries(BLOCK_OPS.map((op) => [op, num(ops, op, `${what}.opMs`, { min: 0 })])) as LayerTiming["opMs"];
  return {
    layer: num(o, "layer", what, { integer: true, min: 0 }),
    cacheHit: o.cacheHit,
    bytesRead: num(o, "bytesRead", what, { integer: true, min: 0 }),
    ioWaitMs: num(o, "ioWaitMs", what, { min: 0 }),
    opMs,
    startAtMs: num(o, "startAtMs", what),
    endAtMs: num(o, "endAtMs", what),
  };
}

export function decodeHopTimings(value: unknown): HopTiming[] {
  if (!Array.isArray(value)) throw bad("stats field profile should be a list");
  if (value.length > MAX_PROFILE_HOPS) throw bad(`stats field profile holds ${value.length} records, more than ${MAX_PROFILE_HOPS}`);
  return value.map((item, i) => {
    const what = `profile[${i}]`;
    const o = object(item, what);
    if (!Array.isArray(o.layers)) throw bad(`${what}.layers should be a list`);
    return {
      node: num(o, "node", what, { integer: true, min: -1 }),
      requestId: num(o, "requestId", what, { integer: true, min: 0 }),
      sequenceId: num(o, "sequenceId", what, { integer: true, min: 0 }),
      position: num(o, "position", what, { integer: true, min: 0 }),
      nTokens: num(o, "nTokens", what, { integer: true, min: 1 }),
      queueMs: num(o, "queueMs", what, { min: 0 }),
      decodeMs: num(o, "decodeMs", what, { min: 0 }),
      encodeMs: num(o, "encodeMs", what, { min: 0 }),
      bytesSent: num(o, "bytesSent", what, { integer: true, min: 0 }),
      layers: o.layers.map((l, j) => decodeLayerTiming(l, `${what}.layers[${j}]`)),
      totalMs: num(o, "totalMs", what, { min: 0 }),
    };
  });
}

export function decodeNodeFacts(value: unknown): NodeFacts {
  const what = "stats field facts";
  const o = object(value, what);
  if (!Array.isArray(o.layers) || !o.layers.every((l) => Number.isInteger(l) && (l as number) >= 0)) throw bad(`${what}.layers should be a list of layer indices`);
  return {
    hostname: str(o, "hostname", what),
    cpu: str(o, "cpu", what),
    physicalCores: num(o, "physicalCores", what, { integer: true, min: 0 }),
    logicalCores: num(o, "logicalCores", what, { integer: true, min: 0 }),
    memoryBytes: num(o, "memoryBytes", what, { min: 0 }),
    availableMemoryBytes: num(o, "availableMemoryBytes", what, { min: 0 }),
    disk: str(o, "disk", what),
    os: str(o, "os", what),
    budgetBytes: num(o, "budgetBytes", what, { min: 0 }),
    layers: o.layers as number[],
    layersResident: num(o, "layersResident", what, { integer: true, min: 0 }),
    kernels: str(o, "kernels", what),
  };
}

/** STATS request payload (optional): `{ takeProfile: true }` asks for the hop records and facts too. */
export function decodeStatsRequest(value: unknown): { takeProfile: boolean; status: boolean } {
  const o = object(value, "stats request");
  if (o.takeProfile !== undefined && typeof o.takeProfile !== "boolean") throw bad("stats request field takeProfile should be a boolean");
  if (o.status !== undefined && typeof o.status !== "boolean") throw bad("stats request field status should be a boolean");
  return { takeProfile: o.takeProfile === true, status: o.status === true };
}
