/**
 * Control payloads (hello, model identity, assignment, stats, errors) as msgpack — never
 * activations. Decoders check the shape of what arrives and name the first field that is off.
 */
import { pack, unpack } from "msgpackr";
import { ProtocolError } from "./errors.js";

/** What a worker answers to HELLO: enough to refuse a worker with a different model file. */
export interface ModelIdentity {
  readonly protocolVersion: number;
  readonly fileBytes: number;
  /** hash of the header and of sampled chunks across the file */
  readonly fingerprint: string;
  readonly nLayer: number;
  /** sha256 of the whole file, lower-case hex, when the sender has one (cached by `layerstream verify`, or `--verify full`) */
  readonly fullSha256?: string;
}

export interface ErrorPayload {
  readonly code: string;
  readonly message: string;
}

type FieldType = "number" | "string" | "boolean";
type Schema<T> = { readonly [K in keyof T]: FieldType };

const SCHEMAS = {
  modelIdentity: { protocolVersion: "number", fileBytes: "number", fingerprint: "string", nLayer: "number" } satisfies Schema<ModelIdentity>,
  error: { code: "string", message: "string" } satisfies Schema<ErrorPayload>,
};

export function encodeControl(value: unknown): Uint8Array {
  return pack(value);
}

function decodeWith<T>(payload: Uint8Array, schema: Schema<T>, what: string): T {
  let value: unknown;
  try {
    value = unpack(payload);
  } catch (error) {
    throw new ProtocolError("BAD_PAYLOAD", `${what} payload is not valid msgpack: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ProtocolError("BAD_PAYLOAD", `${what} payload is not a map`);
  for (const [key, type] of Object.entries(schema) as [string, FieldType][]) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field !== type) throw new ProtocolError("BAD_PAYLOAD", `${what} field ${key} should be a ${type}, got ${field === null ? "null" : typeof field}`);
  }
  return value as T;
}

export function decodeModelIdentity(payload: Uint8Array): ModelIdentity {
  const identity = decodeWith<ModelIdentity>(payload, SCHEMAS.modelIdentity, "model identity");
  const full: unknown = identity.fullSha256;
  if (full !== undefined && (typeof full !== "string" || !/^[0-9a-f]{64}$/.test(full))) throw new ProtocolError("BAD_PAYLOAD", "model identity field fullSha256 should be 64 lower-case hex digits");
  return identity;
}
export const decodeErrorPayload = (payload: Uint8Array) => decodeWith<ErrorPayload>(payload, SCHEMAS.error, "error");
