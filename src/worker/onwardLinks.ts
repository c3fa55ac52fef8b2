/**
 * A worker's links to the next workers of the pipeline: one DEALER per address, made with the
 * cluster key (so a message leaves only over a link whose far end proved it holds the key, and
 * only once its handshake succeeded: `immediate`). Sends are queued per link and not awaited by
 * the worker's receive loop, so a next worker that died holds up nothing but its own queue: its
 * sends fail after the heartbeat timeout and are dropped (the root notices the loss itself).
 */
import * as zmq from "zeromq";
import { decodeMessage } from "../protocol/message.js";
import { MessageType } from "../protocol/header.js";
import { clientSocketOptions, type LinkSecurity } from "../host/linkSecurity.js";

interface Link {
  readonly dealer: zmq.Dealer;
  /** the last queued send; the next waits for it (zeromq allows one send at a time per socket) */
  tail: Promise<void>;
  failures: number;
}

export class OnwardLinks {
  private readonly links = new Map<string, Link>();

  constructor(
    private readonly security: LinkSecurity,
    private readonly log: (line: string) => void,
  ) {}

  /** Queues `frames` for the worker at `address` (connecting on first use). */
  send(address: string, frames: Uint8Array[]): void {
    const link = this.link(address);
    link.tail = link.tail
      .then(() => link.dealer.send(frames))
      .catch((error: unknown) => {
        if (link.dealer.closed) return;
        if (link.failures++ === 0) this.log(`could not send to the next worker ${address}: ${(error as Error).message}; dropping its messages until it answers`);
      });
  }

  private link(address: string): Link {
    let link = this.links.get(address);
    if (!link) {
      const dealer = new zmq.Dealer(clientSocketOptions(this.security, this.security.heartbeatTimeoutMs));
      dealer.events.on("handshake", () => link && (link.failures = 0));
      dealer.connect(address);
      link = { dealer, tail: Promise.resolve(), failures: 0 };
      this.links.set(address, link);
      void this.drain(dealer, address);
    }
    return link;
  }

  /** Anything a next worker sends back is logged and dropped. */
  private async drain(dealer: zmq.Dealer, address: string): Promise<void> {
    try {
      for await (const frames of dealer) {
        let what = "an undecodable message";
        try {
          what = MessageType[decodeMessage(frames).header.type];
        } catch {}
        this.log(`next worker ${address} sent back ${what}; dropped`);
      }
    } catch {}
  }

  closeAll(): void {
    for (const link of this.links.values()) link.dealer.close();
    this.links.clear();
  }
}
