/**
 * The one root session a worker serves at a time: who assigned it (routing id and session
 * number), which model, its assignment and layer host. A second root is refused while the
 * first is alive; the session's state is freed when its root goes away (heartbeats) or when it
 * assigns again. Batches of any other session never reach its KV caches.
 */
import type { Model } from "../engine/model/model.js";
import type { ModelIdentity } from "../protocol/control.js";
import type { AssignPayload } from "../protocol/clusterControl.js";
import { ProtocolError } from "../protocol/errors.js";
import type { CapacityProbe } from "./capacityProbe.js";
import { AssignmentError, WorkerAssignment, type WorkerMemoryOptions } from "./workerAssignment.js";

/** A model this worker serves (it opens only the files it was started with). */
export interface ServedModel {
  readonly model: Model;
  readonly identity: ModelIdentity;
  /** measures what HELLO replies report for placement (memory, disk speed, a timed layer) */
  readonly capacity?: CapacityProbe;
}

export class WorkerSession implements AsyncDisposable {
  private constructor(
    /** routing id of the root's connection */
    readonly root: Uint8Array,
    readonly served: ServedModel,
    readonly assignment: WorkerAssignment,
  ) {}

  get id(): number {
    return this.assignment.plan.session;
  }

  static async open(root: Uint8Array, served: ServedModel, plan: AssignPayload, memory: WorkerMemoryOptions): Promise<WorkerSession> {
    return new WorkerSession(root, served, await WorkerAssignment.create(served.model, plan, memory));
  }

  isRoot(peer: Uint8Array): boolean {
    return Buffer.from(peer).equals(Buffer.from(this.root));
  }

  /** @throws ProtocolError BAD_SESSION for a batch of another session */
  checkBatch(session: number): void {
    if (session !== this.id) throw new ProtocolError("BAD_SESSION", `batch of session ${session}, but this worker serves session ${this.id}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.assignment[Symbol.asyncDispose]();
  }
}

export function busyError(): AssignmentError {
  return new AssignmentError("BUSY", "this worker serves another root; it is free again when that root disconnects");
}
