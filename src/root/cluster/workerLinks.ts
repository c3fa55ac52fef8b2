/**
 * The root's connections: one DEALER per worker, CurveZMQ with the cluster key (unless
 * insecure) and ZMTP heartbeats. Requests carry a fresh request id; a reply (or the RESULT that
 * the last worker sends back over its own connection, or an ERROR from any worker) settles the
 * request with that id, whichever connection it arrives on.
 *
 * Each link watches its socket: a worker whose connection drops (a dead process) or whose
 * heartbeats stop (a stalled one) is *lost* — every request waiting on it rejects with
 * WORKER_LOST at once, and `onLost` tells the runner; when its handshake succeeds again
 * (restarted, resumed) `onBack` says so. A worker that refuses the key is a ClusterError naming
 * the cause within a few handshakes, not a timeout.
 */
import * as zmq from "zeromq";
import { LayerstreamError } from "../../engine/errors.js";
import { decodeErrorPayload } from "../../protocol/control.js";
import { MessageType, type Header } from "../../protocol/header.js";
import { decodeMessage, encodeMessage, type Message } from "../../protocol/message.js";
import { clientSocketOptions, type LinkSecurity } from "../../host/linkSecurity.js";

/** Workers that cannot be reached, refuse the root, fail a request, or answer what they should not. */
export class ClusterError extends LayerstreamError {}

/** handshakes a never-connected worker may drop before the root calls it a key mismatch */
const HANDSHAKES_BEFORE_KEY_ERROR = 3;

export interface LinkEvents {
  /** worker `w` stopped answering (connection closed or heartbeats missed) */
  lost(w: number, reason: string): void;
  /** worker `w`, lost before, completed a handshake again */
  back(w: number): void;
}

interface Pending {
  readonly expect: MessageType;
  /** workers whose loss fails the request (a forward pass: all of them) */
  readonly involves: readonly number[] | "all";
  readonly resolve: (message: Message) => void;
  readonly reject: (error: Error) => void;
}

interface Link {
  readonly dealer: zmq.Dealer;
  /** one send at a time per socket (zeromq allows no concurrent sends) */
  sendQueue: Promise<void>;
  connected: boolean;
  everConnected: boolean;
  lost: boolean;
  droppedHandshakes: number;
  /** why this worker can never be used (key or security mode mismatch) */
  refusal?: ClusterError;
}

export class WorkerLinks implements AsyncDisposable {
  private readonly links: Link[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private closed = false;
  /** messages nobody was waiting for (late replies after a timeout or a loss, stray errors) */
  unexpectedMessages = 0;

  private readonly addressList: string[] = [];

  constructor(
    addresses: readonly string[],
    private readonly security: LinkSecurity,
    private readonly log: (line: string) => void,
    private readonly events: LinkEvents = { lost: () => {}, back: () => {} },
    /** how long a send waits for a worker with no completed handshake (default 10 s) */
    private readonly sendTimeoutMs = 10_000,
  ) {
    for (const address of addresses) this.add(address);
  }

  /** Connects to one more worker; returns its index. */
  add(address: string): number {
    const w = this.links.length;
    this.addressList.push(address);
    const dealer = new zmq.Dealer(clientSocketOptions(this.security, this.sendTimeoutMs));
    const link: Link = { dealer, sendQueue: Promise.resolve(), connected: false, everConnected: false, lost: false, droppedHandshakes: 0 };
    this.links.push(link);
    this.watch(link, w);
    dealer.connect(address);
    void this.receive(dealer, w);
    return w;
  }

  private watch(link: Link, w: number): void {
    const { events } = link.dealer;
    events.on("handshake", () => {
      link.connected = true;
      link.everConnected = true;
      if (link.lost) {
        link.lost = false;
        this.events.back(w);
      }
    });
    events.on("disconnect", () => {
      if (this.closed) return;
      if (link.connected) {
        link.connected = false;
        link.lost = true;
        this.failPending(w, new ClusterError("WORKER_LOST", `worker ${this.addresses[w]} stopped answering (connection closed or no heartbeat for ${this.security.heartbeatTimeoutMs / 1000} s)`));
        this.events.lost(w, "connection closed or heartbeats missed");
      } else if (!link.everConnected && ++link.droppedHandshakes >= HANDSHAKES_BEFORE_KEY_ERROR) {
        const why = this.security.key
          ? `closed the connection during the CurveZMQ handshake ${link.droppedHandshakes} times: it does not hold this root's cluster key (another key, or none: --insecure; compare the key files, see layerstream keygen)`
          : `closed the connection during the handshake ${link.droppedHandshakes} times: it requires the cluster key while this root runs --insecure`;
        this.refuse(link, w, `worker ${this.addresses[w]} ${why}`);
      }
    });
    events.on("handshake:error:protocol", () => {
      const why = this.security.key ? "it runs without a cluster key (--insecure) while this root uses one" : "it requires the cluster key while this root runs --insecure";
      this.refuse(link, w, `worker ${this.addresses[w]} refused the connection: ${why}`);
    });
    events.on("handshake:error:auth", () => this.refuse(link, w, `worker ${this.addresses[w]} refused this root's key: not a member of its cluster`));
  }

  private refuse(link: Link, w: number, message: string): void {
    if (link.refusal) return;
    link.refusal = new ClusterError("AUTH_FAILED", message);
    this.failPending(w, link.refusal);
  }

  private failPending(w: number, error: ClusterError): void {
    for (const [id, pending] of this.pending) {
      if (pending.involves !== "all" && !pending.involves.includes(w)) continue;
      this.pending.delete(id);
      pending.reject(error);
    }
  }

  /** every worker's address, by index (workers added later at the end) */
  get addresses(): readonly string[] {
    return this.addressList;
  }

  get size(): number {
    return this.links.length;
  }

  isLost(w: number): boolean {
    return this.links[w].lost || this.links[w].refusal !== undefined;
  }

  newRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /**
   * Sends a message to worker `w` and waits for the message of type `expect` with the same
   * request id (from any worker). ERROR replies reject with a ClusterError naming the code; the
   * loss of a worker in `involves` (default: `w`) rejects with WORKER_LOST.
   * @returns the reply and the bytes sent (header + payload)
   */
  async request(w: number, header: Omit<Header, "payloadBytes">, payload: Uint8Array | undefined, expect: MessageType, timeoutMs: number, what: string, involves: readonly number[] | "all" = [w]): Promise<{ reply: Message; bytesSent: number }> {
    if (this.closed) throw new ClusterError("CLOSED", "the cluster connection is closed");
    const link = this.links[w];
    if (link.refusal) throw link.refusal;
    if (link.lost) throw new ClusterError("WORKER_LOST", `${what}: worker ${this.addresses[w]} is lost`);
    const frames = encodeMessage(header, payload);
    const bytesSent = frames.reduce((n, f) => n + f.length, 0);
    const reply = this.awaitReply(header.requestId, expect, involves, timeoutMs, `${what}: no answer within ${(timeoutMs / 1000).toFixed(0)} s (is the worker at ${this.addresses[w]} running and reachable?)`);
    const sent = link.sendQueue.then(() => link.dealer.send(frames));
    link.sendQueue = sent.catch(() => {});
    try {
      // a refusal or a loss while the send still waits for a handshake ends the wait
      await Promise.race([sent, reply.then(() => undefined)]);
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      const pending = this.pending.get(header.requestId);
      this.pending.delete(header.requestId);
      const cause = link.refusal ?? (link.lost ? new ClusterError("WORKER_LOST", `${what}: worker ${this.addresses[w]} is lost`) : undefined);
      const failure = cause ?? new ClusterError("WORKER_UNREACHABLE", `${what}: could not reach worker ${this.addresses[w]} within ${this.sendTimeoutMs / 1000} s (${(error as Error).message}); is it running, and is the address right?`);
      pending?.reject(failure);
      throw failure;
    }
    return { reply: await reply, bytesSent };
  }

  private awaitReply(requestId: number, expect: MessageType, involves: readonly number[] | "all", timeoutMs: number, timeoutMessage: string): Promise<Message> {
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ClusterError("WORKER_TIMEOUT", timeoutMessage));
      }, timeoutMs);
      this.pending.set(requestId, {
        expect,
        involves,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
    reply.catch(() => {}); // settled by the caller; a rejection while the send waits must not go unhandled
    return reply;
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
    // a worker checking that this root is still connected
    if (header.type === MessageType.PING && header.requestId === 0) return;
    const pending = this.pending.get(header.requestId);
    if (!pending) {
      this.unexpectedMessages++;
      return;
    }
    this.pending.delete(header.requestId);
    if (header.type === pending.expect) return pending.resolve(message);
    if (header.type === MessageType.ERROR) return pending.reject(errorReply(payload, this.addresses[w]));
    pending.reject(new ClusterError("UNEXPECTED_REPLY", `worker ${this.addresses[w]} answered ${MessageType[header.type]}, expected ${MessageType[pending.expect]}`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) pending.reject(new ClusterError("CLOSED", "the cluster connection closed"));
    this.pending.clear();
    // sends still waiting for a handshake settle on their own (their failures are caught)
    for (const link of this.links) link.dealer.close();
  }
}

function errorReply(payload: Uint8Array, address: string): ClusterError {
  let detail = "an undecodable error";
  let code = "WORKER_ERROR";
  try {
    const body = decodeErrorPayload(payload);
    detail = `${body.code}: ${body.message}`;
    code = body.code;
  } catch {}
  return new ClusterError(code, `worker ${address} answered with an error: ${detail}`);
}
