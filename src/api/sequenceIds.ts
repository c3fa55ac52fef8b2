import { LayerstreamError } from "../engine/errors.js";

/** Sequence ids fit the protocol's u16 field; each running sequence holds one until released. */
const MAX_SEQUENCE_IDS = 0x10000;

/** Hands out sequence ids not in use, round-robin, so a freed id is not reused at once. */
export class SequenceIds {
  private readonly inUse = new Set<number>();
  private next = 0;

  take(): number {
    if (this.inUse.size >= MAX_SEQUENCE_IDS) throw new LayerstreamError("TOO_MANY_SEQUENCES", `all ${MAX_SEQUENCE_IDS} sequence ids are in use`);
    while (this.inUse.has(this.next)) this.next = (this.next + 1) % MAX_SEQUENCE_IDS;
    const id = this.next;
    this.inUse.add(id);
    this.next = (id + 1) % MAX_SEQUENCE_IDS;
    return id;
  }

  release(id: number): void {
    this.inUse.delete(id);
  }
}
