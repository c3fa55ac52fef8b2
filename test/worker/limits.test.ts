/**
 * A worker's per-peer limits, against a real worker process: sequences (KV caches) beyond
 * --max-sequences and batches beyond --max-batch-tokens are refused with a typed ERROR naming
 * the flag, before they cost memory or compute; a sequence unused for --idle-timeout has its
 * KV cache freed, which makes room for new ones.
 */
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFile } from "../helpers/paths.js";
import { keyedDealer } from "../helpers/clusterKey.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/message.js";
import { MessageType, PayloadEncoding } from "../../src/protocol/header.js";
import { decodeErrorPayload, encodeControl } from "../../src/protocol/control.js";
import { decodeHelloReply } from "../../src/protocol/clusterControl.js";
import { encodeBatch } from "../../src/protocol/batch.js";
import { startWorker, type WorkerProcess } from "../cluster/workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const N_EMBD = 64;
const SESSION = 99;
const base = { requestId: 5, position: 0, sequenceId: 0, layerFrom: 0, layerTo: 1, nTokens: 1, flags: 0 };

/** ACTIVATIONS for layer 0 of sequences `ids`, `rows` rows each at position 0. */
function activations(ids: readonly number[], rows = 1): Uint8Array[] {
  const sequences = ids.map((sequenceId) => ({ sequenceId, position: 0, nTokens: rows }));
  const nTokens = ids.length * rows;
  const payload = encodeBatch({ session: SESSION, endLayer: 1, rows: "last", sequences }, new Float32Array(nTokens * N_EMBD).fill(0.01), PayloadEncoding.F32);
  return encodeMessage({ ...base, sequenceId: ids[0], nTokens, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, payload);
}

describe("worker limits", () => {
  let worker: WorkerProcess;
  let peer: zmq.Dealer;

  async function ask(frames: Uint8Array[]): Promise<{ type: string; code?: string; message?: string }> {
    await peer.send(frames);
    let reply = decodeMessage(await peer.receive());
    while (reply.header.type === MessageType.PING && reply.header.requestId === 0) reply = decodeMessage(await peer.receive());
    if (reply.header.type !== MessageType.ERROR) return { type: MessageType[reply.header.type] };
    const { code, message } = decodeErrorPayload(reply.payload);
    return { type: "ERROR", code, message };
  }

  beforeAll(async () => {
    worker = await startWorker(STORIES, ["--max-sequences", "4", "--max-batch-tokens", "8", "--idle-timeout", "1", "--heartbeat-timeout", "2"]);
    peer = keyedDealer(worker.address, { receiveTimeout: 10_000 });
    const hello = (payload: unknown) => encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl(payload));
    await peer.send(hello({ protocolVersion: 0, fileBytes: 0, fingerprint: "?", nLayer: 0 }));
    const { identity } = decodeHelloReply(decodeMessage(await peer.receive()).payload);
    expect((await ask(hello(identity))).type).toBe("HELLO_REPLY");
    const plan = { session: SESSION, workerIndex: 0, addresses: [worker.address], stages: [{ worker: 0, layerFrom: 0, layerTo: identity.nLayer }], encoding: PayloadEncoding.F32, kvType: "f16", contextSize: 64 };
    expect(await ask(encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl(plan)))).toEqual({ type: "ASSIGN" });
  });
  afterAll(async () => {
    peer?.close();
    await worker?.stop();
  });

  it("--max-sequences: sequences up to the limit run; one more is refused, naming the flag; many more cost nothing", async () => {
    expect(await ask(activations([0, 1]))).toEqual({ type: "RESULT" });
    expect(await ask(activations([2, 3]))).toEqual({ type: "RESULT" });
    const over = await ask(activations([4]));
    expect(over).toMatchObject({ type: "ERROR", code: "BAD_VALUE" });
    expect(over.message).toMatch(/5 sequences would be over this worker's limit of 4 \(--max-sequences\)/);
    for (let id = 5; id < 2005; id += 200) expect((await ask(activations([id, id + 1, id + 2, id + 3]))).code).toBe("BAD_VALUE");
  });

  it("--max-batch-tokens: a batch over it is refused before any work, naming the flag", async () => {
    const over = await ask(activations([0], 9));
    expect(over).toMatchObject({ type: "ERROR", code: "BAD_VALUE" });
    expect(over.message).toMatch(/a batch of 9 rows is over this worker's limit of 8 \(--max-batch-tokens\)/);
  });

  it("--idle-timeout: unused sequences have their KV caches freed, and new sequences fit again", async () => {
    await expect.poll(() => worker.stderr(), { timeout: 6000, interval: 200 }).toMatch(/freed the KV cache of 4 sequences unused for 1 s/);
    expect(await ask(activations([10, 11, 12, 13]))).toEqual({ type: "RESULT" });
  });
});
