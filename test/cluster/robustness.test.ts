import path from "node:path";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFile } from "../helpers/paths.js";
import { runCli } from "../helpers/cli.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/message.js";
import { encodeHeader, HEADER_BYTES, MessageType, PayloadEncoding } from "../../src/protocol/header.js";
import { decodeErrorPayload, encodeControl } from "../../src/protocol/control.js";
import { decodeHelloReply, decodeWorkerStats } from "../../src/protocol/clusterControl.js";
import { keyedDealer } from "../helpers/clusterKey.js";
import { encodeBatch } from "../../src/protocol/batch.js";
import { startWorker, statsOf, type WorkerProcess } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const OTHER = modelFile("TinyStories-656K-Q8_0.gguf");
const generateArgs = (workers: readonly WorkerProcess[]) => [
  "generate", "-m", STORIES, "-p", "Once upon a time", "-n", "24", "--temperature", "0", "--stats-json", "--wire", "f32",
  ...(workers.length ? ["--workers", workers.map((w) => w.address).join(",")] : []),
];

/** Seeded bytes (mulberry32), so a failure reproduces. */
function seededBytes(n: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) & 0xff;
  });
}

const base = { requestId: 77, position: 0, sequenceId: 0, layerFrom: 0, layerTo: 1, nTokens: 1, flags: 0 };
const N_EMBD = 64;
/** the session the test's peer assigns itself (as a root holding the cluster key) */
const SESSION = 4242;

/** A well-formed one-row f32 batch payload (descriptor + activations) for a pass ending at `endLayer`. */
function oneRow({ endLayer = 1, session = SESSION } = {}): Uint8Array {
  return encodeBatch({ session, endLayer, rows: "last", sequences: [{ sequenceId: 0, position: 0, nTokens: 1 }] }, new Float32Array(N_EMBD), PayloadEncoding.F32);
}

/** Two rows, each claiming to be sequence 3. */
function twoRowsOfOneSequence(): Uint8Array {
  const sequences = [{ sequenceId: 3, position: 0, nTokens: 1 }, { sequenceId: 3, position: 1, nTokens: 1 }];
  return encodeBatch({ session: SESSION, endLayer: 1, rows: "last", sequences }, new Float32Array(2 * N_EMBD), PayloadEncoding.F32);
}

describe("cluster-robustness", () => {
  let workers: WorkerProcess[];
  let expected: string;
  let peer: zmq.Dealer;

  beforeAll(async () => {
    workers = await Promise.all([startWorker(STORIES), startWorker(STORIES)]);
    const single = await runCli(generateArgs([]));
    expect(single.code, single.stderr).toBe(0);
    expected = single.stdout;
    const first = await runCli(generateArgs(workers));
    expect(first.stdout).toBe(expected);
    // the peer holds the cluster key and assigns itself the model's first layers, so ACTIVATIONS reach the payload checks
    peer = keyedDealer(workers[0].address, { receiveTimeout: 5000 });
    const hello = await ask(encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl({ protocolVersion: 0, fileBytes: 0, fingerprint: "?", nLayer: 0 })));
    const { identity } = decodeHelloReply(hello.payload);
    await ask(encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl(identity)));
    const plan = { session: SESSION, workerIndex: 0, addresses: [workers[0].address], stages: [{ worker: 0, layerFrom: 0, layerTo: identity.nLayer }], encoding: PayloadEncoding.F32, kvType: "f16", contextSize: 64 };
    expect((await ask(encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl(plan)))).type).toBe(MessageType.ASSIGN);
  });
  afterAll(async () => {
    peer?.close();
    await Promise.all((workers ?? []).map((w) => w.stop()));
  });

  async function ask(frames: Uint8Array[]): Promise<{ type: MessageType; code?: string; payload: Uint8Array }> {
    await peer.send(frames);
    let message = decodeMessage(await peer.receive());
    // the worker checks now and then that its root (the peer) is still there
    while (message.header.type === MessageType.PING && message.header.requestId === 0) message = decodeMessage(await peer.receive());
    const { header, payload } = message;
    return { type: header.type, payload, code: header.type === MessageType.ERROR ? decodeErrorPayload(payload).code : undefined };
  }

  const header = (fields: Partial<typeof base> & { type: MessageType; encoding: PayloadEncoding; payloadBytes: number }) => encodeHeader({ ...base, ...fields });
  const wrongMagic = header({ type: MessageType.PING, encoding: PayloadEncoding.NONE, payloadBytes: 0 });
  wrongMagic[0] = 0x47;
  const wrongVersion = header({ type: MessageType.PING, encoding: PayloadEncoding.NONE, payloadBytes: 0 });
  wrongVersion[2] = 9;
  const cases: [string, Uint8Array[], string][] = [
    ["random bytes", [seededBytes(100, 1)], "SHORT_HEADER"],
    ["24 random bytes", [Uint8Array.from([0, ...seededBytes(HEADER_BYTES - 1, 2)])], "BAD_MAGIC"],
    ["a truncated header", [wrongMagic.subarray(0, 11)], "SHORT_HEADER"],
    ["an empty frame", [new Uint8Array(0)], "SHORT_HEADER"],
    ["three frames", [header({ type: MessageType.PING, encoding: PayloadEncoding.NONE, payloadBytes: 0 }), new Uint8Array(3), new Uint8Array(3)], "SHORT_HEADER"],
    ["a wrong magic", [wrongMagic], "BAD_MAGIC"],
    ["a wrong version", [wrongVersion], "BAD_VERSION"],
    ["an unknown type", [Uint8Array.from(header({ type: MessageType.PING, encoding: PayloadEncoding.NONE, payloadBytes: 0 }), (b, i) => (i === 3 ? 200 : b))], "BAD_TYPE"],
    ["a length larger than the frame", [header({ type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, payloadBytes: 1 << 30 }), new Uint8Array(256)], "PAYLOAD_SIZE_MISMATCH"],
    ["activations of the wrong size", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, new Uint8Array(100)), "BAD_PAYLOAD"],
    ["q8_0 activations of the wrong size", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.Q8_0, nTokens: 2 }, new Uint8Array(68)), "BAD_PAYLOAD"],
    ["activations for layers it does not run", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, layerFrom: 1, layerTo: 2 }, oneRow()), "BAD_LAYER_RANGE"],
    ["a batch for a pass ending beyond the model", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, oneRow({ endLayer: 9 })), "BAD_LAYER_RANGE"],
    ["a batch whose rows are not the header's tokens", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, nTokens: 2 }, oneRow()), "BAD_PAYLOAD"],
    ["a batch naming a sequence twice", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, nTokens: 2 }, twoRowsOfOneSequence()), "BAD_PAYLOAD"],
    ["a batch of another session", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, oneRow({ session: SESSION + 1 })), "BAD_SESSION"],
    ["a batch over the row limit", encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, nTokens: 4097 }, new Uint8Array(8)), "BAD_VALUE"],
    ["an ASSIGN asking a context beyond the limit", encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl({ session: 1, workerIndex: 0, addresses: ["tcp://x:1"], stages: [{ worker: 0, layerFrom: 0, layerTo: 5 }], encoding: 1, kvType: "f16", contextSize: 2 ** 53 - 1 })), "BAD_VALUE"],
    ["an ASSIGN that is not msgpack", encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, seededBytes(40, 3)), "BAD_PAYLOAD"],
    ["an ASSIGN with a broken pipeline", encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl({ workerIndex: 0, addresses: ["tcp://x:1"], stages: [{ worker: 0, layerFrom: 2, layerTo: 1 }], encoding: 1, kvType: "f16", contextSize: 8 })), "BAD_PAYLOAD"],
    ["a STATS request that is not msgpack", encodeMessage({ ...base, type: MessageType.STATS, encoding: PayloadEncoding.MSGPACK }, seededBytes(9, 4)), "BAD_PAYLOAD"],
    ["a STATS request whose takeProfile is not a boolean", encodeMessage({ ...base, type: MessageType.STATS, encoding: PayloadEncoding.MSGPACK }, encodeControl({ takeProfile: "yes" })), "BAD_PAYLOAD"],
    ["a RESULT (workers take none)", encodeMessage({ ...base, type: MessageType.RESULT, encoding: PayloadEncoding.F32 }, new Uint8Array(256)), "BAD_TYPE"],
  ];

  it("answers every malformed frame with ERROR and its code, counts it, and keeps answering", async () => {
    for (const [what, frames, code] of cases) {
      const reply = await ask(frames);
      expect({ what, type: MessageType[reply.type], code: reply.code }).toEqual({ what, type: "ERROR", code });
    }
    expect((await ask(encodeMessage({ ...base, type: MessageType.PING, encoding: PayloadEncoding.NONE }))).type).toBe(MessageType.PONG);
    const stats = decodeWorkerStats((await ask(encodeMessage({ ...base, type: MessageType.STATS, encoding: PayloadEncoding.NONE }))).payload);
    expect(stats.badFrames).toBe(cases.length);
    expect(workers[0].stderr()).toMatch(/rejected .*BAD_MAGIC/);
  });

  it("refuses a second root while the first (the peer) is connected, and serves it once the first has gone", async () => {
    const busy = await runCli(generateArgs(workers));
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/BUSY: this worker serves another root/);
    peer.close();
    await expect.poll(() => workers[0].stderr(), { timeout: 5000 }).toMatch(/session 4242: the root went away; its state is freed/);
  });

  it("still produces the single-process tokens afterwards", async () => {
    const run = await runCli(generateArgs(workers));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(statsOf(run.stderr).workerBadFrames).toBe(cases.length);
  });

  it("refuses a worker with a different model file, with both sizes and fingerprints, on both sides", async () => {
    await using other = await startWorker(OTHER);
    const run = await runCli([...generateArgs([workers[0], other])]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`error: worker ${other.address} has a different model file \\(sampled fingerprint: 1185376 vs 749728 bytes\\): worker: 749728 bytes, fingerprint [0-9a-f]{16}.*; root: 1185376 bytes, fingerprint [0-9a-f]{16}`));
    expect(run.stderr).not.toMatch(/\n\s+at /);
    await new Promise((r) => setTimeout(r, 100));
    expect(other.stderr()).toMatch(/refusing a root with a model this worker does not serve \(sampled fingerprint: 1185376 vs 749728 bytes\): root has 1185376 bytes.*this worker has 749728 bytes/);
  });
});
