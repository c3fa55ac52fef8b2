/**
 * How cluster links are set up, on the serving side (a worker's ROUTER) and the connecting side
 * (the root's and workers' DEALERs): CurveZMQ with the cluster key — every byte encrypted, and
 * a ZAP handler that lets in only peers holding the same key — plus ZMTP heartbeats, so a peer
 * that dies or stops answering (SIGKILL, SIGSTOP, a pulled cable) is noticed within
 * `heartbeatTimeoutMs`. Without a key (`--insecure`) links are plaintext and open to anyone.
 */
import * as zmq from "zeromq";
import { type ClusterKey, z85Decode } from "./clusterKey.js";

export interface LinkSecurity {
  /** undefined: plaintext, anyone who reaches the port may talk (`--insecure`) */
  readonly key: ClusterKey | undefined;
  /** a silent peer is dropped after this long (ZMTP heartbeats) */
  readonly heartbeatTimeoutMs: number;
}

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 2000;
/** libzmq's well-known ZAP endpoint (RFC 27) */
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_DOMAIN = "layerstream";

function heartbeatOptions(security: LinkSecurity) {
  const heartbeatInterval = Math.max(50, Math.floor(security.heartbeatTimeoutMs / 4));
  return { heartbeatInterval, heartbeatTimeout: security.heartbeatTimeoutMs, heartbeatTimeToLive: security.heartbeatTimeoutMs };
}

/** Options of a worker's listening ROUTER. */
export function serverSocketOptions(security: LinkSecurity): zmq.SocketOptions<zmq.Router> {
  const base = { ...heartbeatOptions(security), mandatory: true };
  if (!security.key) return base;
  // zapEnforceDomain: with no ZAP handler running, refuse everyone rather than admit everyone
  return { ...base, curveServer: true, curvePublicKey: security.key.publicKey, curveSecretKey: security.key.secretKey, zapDomain: ZAP_DOMAIN, zapEnforceDomain: true };
}

/**
 * Options of a DEALER that connects to a worker (the root's, and a worker's to the next stage).
 * `immediate`: messages go only to a peer whose handshake succeeded — nothing is queued for a
 * worker that is down or did not prove it holds the cluster key; a send that finds no such peer
 * fails after `sendTimeoutMs`.
 */
export function clientSocketOptions(security: LinkSecurity, sendTimeoutMs: number): zmq.SocketOptions<zmq.Dealer> {
  const base = { ...heartbeatOptions(security), immediate: true, sendTimeout: sendTimeoutMs, linger: 0 };
  if (!security.key) return base;
  return { ...base, curveServerKey: security.key.publicKey, curvePublicKey: security.key.publicKey, curveSecretKey: security.key.secretKey };
}

/**
 * The process's ZAP handler (one per process: libzmq has one ZAP endpoint): answers libzmq's
 * authentication requests for every CURVE-serving socket here, accepting a peer only when the
 * key it proved it holds is the cluster key of a socket that leased the handler. Each worker
 * takes a lease; the handler stops when the last lease is disposed.
 */
class ZapHandler {
  private readonly socket = new zmq.Reply();
  private readonly leases = new Set<ZapLease>();
  private closed = false;

  private constructor() {}

  static async start(): Promise<ZapHandler> {
    const handler = new ZapHandler();
    await handler.socket.bind(ZAP_ENDPOINT);
    void handler.serve();
    return handler;
  }

  add(lease: ZapLease): void {
    this.leases.add(lease);
  }

  /** true when no lease is left (the handler has closed) */
  remove(lease: ZapLease): boolean {
    this.leases.delete(lease);
    if (this.leases.size > 0) return false;
    this.closed = true;
    this.socket.close();
    return true;
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const [version, requestId, , address, , mechanism, clientKey] = frames;
        const lease = String(mechanism) === "CURVE" && clientKey !== undefined ? [...this.leases].find((l) => l.admits(clientKey)) : undefined;
        if (!lease) for (const l of this.leases) l.refuse(String(address ?? "?"));
        await this.socket.send([version ?? "1.0", requestId ?? "", lease ? "200" : "400", lease ? "OK" : "not a member of this cluster", "", ""]);
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }
}

let shared: Promise<ZapHandler> | undefined;

/** One socket's hold on the process's ZAP handler: admits peers with `key`, counts the others. */
export class ZapLease implements AsyncDisposable {
  /** peers refused since the lease began */
  refused = 0;
  private readonly keyBytes: Buffer;
  private released = false;

  private constructor(
    key: ClusterKey,
    private readonly onRefused: (address: string) => void,
    private readonly handler: ZapHandler,
  ) {
    this.keyBytes = Buffer.from(z85Decode(key.publicKey));
  }

  /** Starts the handler if none runs, and admits peers holding `key` from now on. */
  static async acquire(key: ClusterKey, onRefused: (address: string) => void): Promise<ZapLease> {
    shared ??= ZapHandler.start();
    const handler = await shared;
    const lease = new ZapLease(key, onRefused, handler);
    handler.add(lease);
    return lease;
  }

  admits(clientKey: Uint8Array): boolean {
    return this.keyBytes.equals(Buffer.from(clientKey));
  }

  refuse(address: string): void {
    this.refused++;
    this.onRefused(address);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.handler.remove(this)) shared = undefined;
  }
}
