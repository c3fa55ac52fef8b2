/**
 * The root checks every reply from a worker as a worker checks every request: a malformed or
 * forged-looking HELLO reply or RESULT (wrong length, session, sequence or position) ends the
 * run with one line naming the worker and what was wrong, exit 2, never a stack trace.
 *
 * A real worker runs behind a ZeroMQ proxy in this process that rewrites one kind of reply on
 * its way back to the real root (`layerstream generate --workers <proxy>`).
 */
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFile } from "../helpers/paths.js";
import { runCli } from "../helpers/cli.js";
import { decodeHeader, encodeHeader, MessageType } from "../../src/protocol/header.js";
import { encodeControl } from "../../src/protocol/control.js";
import { isRunning, startWorker, type WorkerProcess } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");

type Rewrite = (payload: Uint8Array) => Uint8Array;

/** A copy of `payload` with the u32 at `offset` changed by `delta`. */
function bumpU32(offset: number, delta: number): Rewrite {
  return (payload) => {
    const copy = payload.slice();
    const view = new DataView(copy.buffer);
    view.setUint32(offset, view.getUint32(offset, true) + delta, true);
    return copy;
  };
}

/** Forwards root ⇄ worker, rewriting the payload of every reply of type `type` (its header's length kept true). */
class RewritingProxy implements AsyncDisposable {
  private readonly router = new zmq.Router({ linger: 0 });
  private readonly dealer = new zmq.Dealer({ linger: 0 });
  rewritten = 0;

  constructor(private readonly type: MessageType, private readonly rewrite: Rewrite) {}

  async start(workerAddress: string): Promise<string> {
    await this.router.bind("tcp://127.0.0.1:*");
    this.dealer.connect(workerAddress);
    let root: Uint8Array | undefined;
    void (async () => {
      for await (const [id, ...frames] of this.router) {
        root = id;
        await this.dealer.send(frames);
      }
    })().catch(() => {});
    void (async () => {
      for await (const frames of this.dealer) if (root) await this.router.send([root, ...this.edit(frames)]);
    })().catch(() => {});
    return this.router.lastEndpoint!;
  }

  private edit(frames: Uint8Array[]): Uint8Array[] {
    const header = decodeHeader(frames[0], frames[1]?.length ?? 0);
    if (header.type !== this.type) return frames;
    this.rewritten++;
    const payload = this.rewrite(frames[1] ?? new Uint8Array(0));
    return [encodeHeader({ ...header, payloadBytes: payload.length }), payload];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.router.close();
    this.dealer.close();
  }
}

describe("the root refuses malformed and forged-looking worker replies", () => {
  let worker: WorkerProcess;
  beforeAll(async () => {
    worker = await startWorker(STORIES, ["--insecure"]);
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it.each<[string, MessageType, Rewrite, RegExp]>([
    ["a HELLO reply that is not one", MessageType.HELLO_REPLY, () => encodeControl({ identity: 7 }), /sent a malformed HELLO reply/],
    ["a RESULT cut short", MessageType.RESULT, (p) => p.subarray(0, p.length - 7), /sent a malformed RESULT: /],
    ["a RESULT of another session", MessageType.RESULT, bumpU32(4, 1), /sent a RESULT of session \d+, not \d+/],
    ["a RESULT of another sequence", MessageType.RESULT, bumpU32(8, 3), /sent a RESULT for other sequences or rows than were asked for/],
    ["a RESULT at another position", MessageType.RESULT, bumpU32(12, 5), /sent a RESULT of sequence 0 at position \d+, not \d+/],
  ])("%s: one line naming the worker, exit 2; the worker keeps running", async (_, type, rewrite, pattern) => {
    await using proxy = new RewritingProxy(type, rewrite);
    const address = await proxy.start(worker.address);
    const run = await runCli(["generate", "-m", STORIES, "-p", "Once upon a time", "-n", "4", "--temp", "0", "--workers", address, "--insecure"], {}, 60_000);
    expect(proxy.rewritten).toBeGreaterThan(0);
    expect(run.code, run.stderr).toBe(2);
    const errors = run.stderr.split("\n").filter((line) => line.startsWith("layerstream: error:"));
    expect(errors, run.stderr).toHaveLength(1);
    expect(errors[0]).toContain(`worker ${address} `);
    expect(errors[0]).toMatch(pattern);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(isRunning(worker.pid)).toBe(true);
  });
});
