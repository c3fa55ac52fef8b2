/**
 * `layerstream status`: asks each worker for its status (STATS with `status`): its models, the
 * layers it holds for the root it serves, its memory budget and free memory, disk speed, timed
 * layer and cache counters. A worker that does not answer is reported, not fatal.
 */
import { encodeControl } from "../../protocol/control.js";
import { decodeWorkerStats, type WorkerStats } from "../../protocol/clusterControl.js";
import { controlHeader, MessageType, PayloadEncoding } from "../../protocol/header.js";
import type { LinkSecurity } from "../../host/linkSecurity.js";
import { WorkerLinks } from "./workerLinks.js";

export interface WorkerReport {
  readonly address: string;
  /** undefined when the worker did not answer (then `error` says why) */
  readonly stats?: WorkerStats;
  readonly error?: string;
}

export async function queryWorkers(addresses: readonly string[], security: LinkSecurity, timeoutMs: number): Promise<WorkerReport[]> {
  await using links = new WorkerLinks(addresses, security, () => {}, undefined, timeoutMs);
  // awaited here: the links close when this function returns
  return await Promise.all(
    addresses.map(async (address, w): Promise<WorkerReport> => {
      try {
        const header = controlHeader(MessageType.STATS, links.newRequestId(), PayloadEncoding.MSGPACK);
        const { reply } = await links.request(w, header, encodeControl({ takeProfile: false, status: true }), MessageType.STATS, timeoutMs, `STATS from worker ${address}`);
        return { address, stats: decodeWorkerStats(reply.payload) };
      } catch (error) {
        return { address, error: (error as Error).message };
      }
    }),
  );
}
