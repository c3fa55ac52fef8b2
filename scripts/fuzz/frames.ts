/**
 * Seeded cluster messages for the frame fuzzer, independent of any socket: valid messages of
 * every type (built with the protocol's own encoders) mutated — header bytes and fields set to
 * edge values, payloads cut, grown, flipped or replaced by random msgpack, frames dropped,
 * added or emptied — and purely random frames. The same stream feeds the in-process decoder
 * (`decodeFrames`) and a live worker over ZeroMQ.
 */
import { pack } from "msgpackr";
import { seededRandom } from "../../src/engine/gguf/syntheticModel.js";
import { encodeControl, type ModelIdentity } from "../../src/protocol/control.js";
import { decodeAssign, decodeHello, decodeHelloReply, decodeStatsRequestPayload, decodeWorkerStats, encodeHelloReply, type AssignPayload } from "../../src/protocol/clusterControl.js";
import { decodeErrorPayload } from "../../src/protocol/control.js";
import { controlHeader, HEADER_BYTES, MessageType, OFFSET, PayloadEncoding, PROTOCOL_VERSION, type Header } from "../../src/protocol/header.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/message.js";
import { decodeBatch, encodeBatch } from "../../src/protocol/batch.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import { LayerstreamError } from "../../src/engine/errors.js";

export type Frames = Uint8Array[];
type Random = () => number;

export interface FrameShape {
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly identity: ModelIdentity;
  /** the worker's own address, so an ASSIGN may name it */
  readonly address: string;
}

const randomInt = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[randomInt(random, items.length)];
const U32_EDGES = [0, 1, 2, 255, 256, 65535, 65536, 2 ** 24, 2 ** 31, 2 ** 32 - 1];

/** One valid message of each kind a peer may send a worker (and the replies, which a worker must refuse). */
export function seedMessages(shape: FrameShape): Frames[] {
  const { nEmbd, nLayer, identity, address } = shape;
  const session = 7;
  const assign: AssignPayload = { session, workerIndex: 0, addresses: [address], stages: [{ worker: 0, layerFrom: 0, layerTo: nLayer }], encoding: PayloadEncoding.Q8_0, kvType: "f16", contextSize: 64, sequences: 1 };
  const rows = 2;
  const batch = encodeBatch({ session, endLayer: nLayer, rows: "last", sequences: [{ sequenceId: 0, position: 0, nTokens: rows }] }, new Float32Array(rows * nEmbd).fill(0.25), PayloadEncoding.Q8_0);
  const activations: Omit<Header, "payloadBytes"> = { type: MessageType.ACTIVATIONS, requestId: 5, position: 0, sequenceId: 0, layerFrom: 0, layerTo: nLayer, nTokens: rows, encoding: PayloadEncoding.Q8_0, flags: 0 };
  return [
    encodeMessage(controlHeader(MessageType.HELLO, 1), encodeControl(identity)),
    encodeMessage(controlHeader(MessageType.ASSIGN, 2), encodeControl(assign)),
    encodeMessage(activations, batch),
    encodeMessage({ ...controlHeader(MessageType.TRUNCATE, 3, PayloadEncoding.NONE), sequenceId: 0, position: 1 }),
    encodeMessage(controlHeader(MessageType.STATS, 4), encodeControl({ takeProfile: true })),
    encodeMessage(controlHeader(MessageType.PING, 6, PayloadEncoding.NONE)),
    encodeMessage(controlHeader(MessageType.HELLO_REPLY, 8), encodeHelloReply({ identity })),
    encodeMessage(controlHeader(MessageType.ERROR, 9), encodeControl({ code: "X", message: "y" })),
    encodeMessage({ ...activations, type: MessageType.RESULT }, batch),
  ];
}

function randomBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = randomInt(random, 256);
  return out;
}

/** A random msgpack value: maps with the fields decoders look for, of the wrong kinds, nested, huge. */
function randomValue(random: Random, depth = 0): unknown {
  const kinds = depth > 3 ? 6 : 9;
  switch (randomInt(random, kinds)) {
    case 0: return pick(random, U32_EDGES) * pick(random, [1, -1]);
    case 1: return pick(random, [NaN, Infinity, -0, 1e300, 0.5]);
    case 2: return pick(random, ["", "f16", "tcp://127.0.0.1:1", "x".repeat(randomInt(random, 300))]);
    case 3: return pick(random, [null, true, false, undefined]);
    case 4: return 2n ** BigInt(randomInt(random, 70));
    case 5: return randomBytes(random, randomInt(random, 40));
    case 6: return Array.from({ length: randomInt(random, 5) }, () => randomValue(random, depth + 1));
    default: {
      const keys = ["session", "workerIndex", "addresses", "stages", "encoding", "kvType", "contextSize", "sequences", "protocolVersion", "fileBytes", "fingerprint", "nLayer", "fullSha256", "takeProfile", "code", "message", "worker", "layerFrom", "layerTo", "capacity"];
      return Object.fromEntries(Array.from({ length: randomInt(random, 8) }, () => [pick(random, keys), randomValue(random, depth + 1)]));
    }
  }
}

const HEADER_FIELDS: readonly (readonly [number, 1 | 2 | 4])[] = [[OFFSET.version, 1], [OFFSET.type, 1], [OFFSET.requestId, 4], [OFFSET.payloadBytes, 4], [OFFSET.position, 4], [OFFSET.sequenceId, 2], [OFFSET.layerFrom, 1], [OFFSET.layerTo, 1], [OFFSET.nTokens, 2], [OFFSET.encoding, 1], [OFFSET.flags, 1]];

type FrameMutation = (frames: Frames, random: Random) => Frames;

export const FRAME_MUTATIONS: readonly (readonly [string, FrameMutation])[] = [
  ["header byte", (frames, random) => {
    frames[0][randomInt(random, frames[0].length)] ^= 1 << randomInt(random, 8);
    return frames;
  }],
  ["header field edge", (frames, random) => {
    const [at, size] = pick(random, HEADER_FIELDS);
    const view = new DataView(frames[0].buffer, frames[0].byteOffset, frames[0].byteLength);
    const value = pick(random, U32_EDGES) % 2 ** (8 * size);
    if (size === 1) view.setUint8(at, randomInt(random, 2) === 0 ? value : randomInt(random, 16));
    else if (size === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value, true);
    return frames;
  }],
  ["payload cut", (frames, random) => (frames.length > 1 ? [frames[0], frames[1].subarray(0, randomInt(random, frames[1].length + 1)), ...frames.slice(2)] : frames)],
  ["payload grown", (frames, random) => [frames[0], concat(frames[1] ?? new Uint8Array(0), randomBytes(random, 1 + randomInt(random, 256))), ...frames.slice(2)]],
  ["payload flips", (frames, random) => {
    const payload = frames[1];
    if (payload && payload.length > 0) for (let n = 1 + randomInt(random, 8); n > 0; n--) payload[randomInt(random, payload.length)] ^= 1 << randomInt(random, 8);
    return frames;
  }],
  ["payload random msgpack", (frames, random) => [withPayloadBytes(frames[0], pack(randomValue(random)), random), pack(randomValue(random))]],
  ["frames dropped/added/emptied", (frames, random) => {
    const choice = randomInt(random, 4);
    if (choice === 0) return frames.slice(0, randomInt(random, frames.length + 1));
    if (choice === 1) return [...frames, ...Array.from({ length: 1 + randomInt(random, 3) }, () => randomBytes(random, randomInt(random, 64)))];
    if (choice === 2) return frames.map(() => new Uint8Array(0));
    return [frames[0].subarray(0, randomInt(random, HEADER_BYTES)), ...frames.slice(1)];
  }],
  ["random frames", (_frames, random) => Array.from({ length: randomInt(random, 5) }, () => randomBytes(random, randomInt(random, 3) === 0 ? HEADER_BYTES : randomInt(random, 96)))],
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The header with its payloadBytes set to `payload`'s length most of the time (so the payload decoders are reached). */
function withPayloadBytes(header: Uint8Array, payload: Uint8Array, random: Random): Uint8Array {
  const out = Uint8Array.from(header);
  const view = new DataView(out.buffer);
  if (out.length >= HEADER_BYTES && randomInt(random, 4) !== 0) {
    view.setUint32(OFFSET.payloadBytes, payload.length, true);
    view.setUint8(OFFSET.encoding, PayloadEncoding.MSGPACK);
    out[0] = 0x4c;
    out[1] = 0x53;
    out[OFFSET.version] = PROTOCOL_VERSION;
  }
  return out;
}

/** Frame sets number [from, from + count) of the stream for `seed`: each depends only on (seed, index). */
export function* frameStream(seed: number, from: number, count: number, seeds: readonly Frames[]): Generator<{ index: number; frames: Frames; mutations: string[] }> {
  for (let index = from; index < from + count; index++) {
    const random = seededRandom((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
    let frames: Frames = pick(random, seeds).map((f) => Uint8Array.from(f));
    const mutations: string[] = [];
    for (let n = randomInt(random, 4) === 0 ? 0 : 1 + randomInt(random, 2); n > 0; n--) {
      const [name, mutate] = pick(random, FRAME_MUTATIONS);
      if (frames.length === 0 || frames[0].length === 0) frames = [new Uint8Array(HEADER_BYTES), ...frames.slice(1)];
      try {
        frames = mutate(frames, random);
        mutations.push(name);
      } catch {
        // a field past the end of a frame an earlier mutation cut: nothing to mutate
      }
    }
    yield { index, frames, mutations };
  }
}

export type FrameOutcome = { kind: "clean"; code: string } | { kind: "accepted"; type: string } | { kind: "crash"; error: string };

/** What a worker does with a message before acting on it: the frame decoder, then the payload decoder of its type. */
export function decodeFrames(frames: Frames, nEmbd: number): FrameOutcome {
  try {
    const { header, payload } = decodeMessage(frames);
    switch (header.type) {
      case MessageType.HELLO: decodeHello(payload); break;
      case MessageType.HELLO_REPLY: decodeHelloReply(payload); break;
      case MessageType.ASSIGN: decodeAssign(payload); break;
      case MessageType.ACTIVATIONS:
      case MessageType.RESULT: decodeBatch(payload, header, nEmbd); break;
      case MessageType.STATS: if (payload.length > 0) { try { decodeStatsRequestPayload(payload); } catch (error) { if (!(error instanceof ProtocolError)) throw error; decodeWorkerStats(payload); } } break;
      case MessageType.ERROR: decodeErrorPayload(payload); break;
      default: break;
    }
    return { kind: "accepted", type: MessageType[header.type] ?? String(header.type) };
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof LayerstreamError) return { kind: "clean", code: error.code };
    return { kind: "crash", error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}
