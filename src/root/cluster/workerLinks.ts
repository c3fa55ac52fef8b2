/**
 * The root's connections: one DEALER per worker. Requests carry a fresh request id; a reply
 * (or the RESULT that the last worker sends back over its own connection, or an ERROR from
 * any worker) settles the request with that id, whichever connection it arrives on.
 */
import * as zmq from "zeromq";
import { LayerstreamError } from "../../engine/errors.js";
import { decodeErrorPayload } from "../../protocol/control.js";
import { MessageType, type Header } from "../../protocol/header.js";
import { decodeMessage, encodeMessage, type Message } from "../../protocol/message.js";

/** Workers that cannot be reached, refuse the root, fail a request, or answer what they should not. */
export class ClusterError extends LayerstreamError {}

interface Pending {
  readonly expect: MessageType;
  readonly resolve: (message: Message) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerLinks implements AsyncDisposable {
  private readonly dealers: zmq.Dealer[];
  private readonly pending = new Map<number, Pending>();
  /** one send at a time per socket (zeromq allows no concurrent sends) */
  private readonly sendQueues: Promise<void>[];
  private nextRequestId = 1;
  private closed = false;
  /** messages nobody was waiting for (late replies after a timeout, stray errors) */
  unexpectedMessages = 0;

  constructor(
    readonly addresses: readonly string[],
    private readonly log: (line: string) => void,
  ) {
    this.dealers = addresses.map((address) => {
      const dealer = new zmq.Dealer({ linger: 200 });
      dealer.connect(address);
      return dealer;
    });
    this.sendQueues = addresses.map(() => Promise.resolve());
    this.dealers.forEach((dealer, w) => void this.receive(dealer, w));
  }

  newRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /**
   * Sends a message to worker `w` and waits for the message of type `expect` with the same
   * request id (from any worker). ERROR replies reject with a ClusterError naming the code.
   * @returns the reply and the bytes sent (header + payload)
   */
  async request(w: number, header: Omit<Header, "payloadBytes">, payload: Uint8Array | undefined, expect: MessageType, timeoutMs: number, what: string): Promise<{ reply: Message; bytesSent: number }> {
    if (this.closed) throw new ClusterError("CLOSED", "the cluster connection is closed");
    const frames = encodeMessage(header, payload);
    const bytesSent = frames.reduce((n, f) => n + f.length, 0);
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(header.requestId);
        reject(new ClusterError("WORKER_TIMEOUT", `${what}: no answer within ${(timeoutMs / 1000).toFixed(0)} s (is the worker at ${this.addresses[w]} running and reachable?)`));
      }, timeoutMs);
      this.pending.set(header.requestId, {
        expect,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
    reply.catch(() => {}); // settled below; a timeout while the send waits must not go unhandled
    const sent = this.sendQueues[w].then(() => this.dealers[w].send(frames));
    this.sendQueues[w] = sent.catch(() => {});
    try {
      await sent;
    } catch (error) {
      this.pending.get(header.requestId)?.reject(error as Error);
      this.pending.delete(header.requestId);
      throw error;
    }
    return { reply: await reply, bytesSent };
  }

  private async receive(dealer: zmq.Dealer, w: number): Promise<void> {
    try {
      for await (const frames of dealer) this.dispatch(frames, w);
    } catch (error) {
      if (!this.closed) this.log(`connection to worker ${this.addresses[w]} failed: ${(error as Error).message}`);
    }
  }

  private dispatch(frames: Uint8Array[], w: number): void {
    let message: Message;
    try {
      message = decodeMessage(frames);
    } catch (error) {
      this.unexpectedMessages++;
      this.log(`worker ${this.addresses[w]} sent a bad frame: ${(error as Error).message}`);
      return;
    }
    const { header, payload } = message;
    const pending = this.pending.get(header.requestId);
    if (!pending) {
      this.unexpectedMessages++;
      return;
    }
    this.pending.delete(header.requestId);
    if (header.type === pending.expect) return pending.resolve(message);
    if (header.type === MessageType.ERROR) {
      let detail = "an undecodable error";
      let code = "WORKER_ERROR";
      try {
        const body = decodeErrorPayload(payload);
        detail = `${body.code}: ${body.message}`;
        code = body.code;
      } catch {}
      return pending.reject(new ClusterError(code, `worker ${this.addresses[w]} answered with an error: ${detail}`));
    }
    pending.reject(new ClusterError("UNEXPECTED_REPLY", `worker ${this.addresses[w]} answered ${MessageType[header.type]}, expected ${MessageType[pending.expect]}`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) pending.reject(new ClusterError("CLOSED", "the cluster connection closed"));
    this.pending.clear();
    await Promise.allSettled(this.sendQueues);
    for (const dealer of this.dealers) dealer.close();
  }
}
