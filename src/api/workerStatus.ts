/**
 * `workerStatus()`: what each worker of a cluster holds and can give, without loading a model
 * (the `layerstream status` command).
 */
import { OptionError } from "../engine/errors.js";
import { linkSecurity } from "../root/cluster/openCluster.js";
import { queryWorkers, type WorkerReport } from "../root/cluster/workerStatus.js";

export type { WorkerReport };

export interface WorkerStatusOptions {
  /** worker addresses, e.g. ["tcp://10.0.0.2:5555"] */
  readonly workers: readonly string[];
  /** the cluster key file (default: $XDG_CONFIG_HOME/layerstream/cluster.key) */
  readonly clusterKey?: string;
  /** plaintext, for workers started with --insecure */
  readonly insecure?: boolean;
  /** how long to wait for each worker (default 5 s) */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** One report per worker, in order; a worker that does not answer has `error` instead of `stats`. */
export async function workerStatus(options: WorkerStatusOptions): Promise<WorkerReport[]> {
  const { workers, timeoutMs = 5000 } = options;
  if (!Array.isArray(workers) || workers.length === 0) throw new OptionError("BAD_WORKERS", "workerStatus needs at least one worker address");
  const bad = workers.find((a) => !/^(tcp|ipc):\/\/\S+$/.test(a));
  if (bad) throw new OptionError("BAD_WORKERS", `worker address "${bad}" is not a ZeroMQ endpoint such as tcp://host:port`);
  const security = linkSecurity({ clusterKey: options.clusterKey, insecure: options.insecure }, options.log ?? (() => {}));
  return queryWorkers(workers, security, timeoutMs);
}
