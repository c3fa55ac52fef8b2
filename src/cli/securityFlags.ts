/**
 * The cluster security flags of `worker`, `generate` and `serve`: --cluster-key FILE (default
 * $XDG_CONFIG_HOME/layerstream/cluster.key), --insecure, --heartbeat-timeout SECONDS.
 */
import type { Command } from "commander";
import { CLUSTER_KEY_ENV, ClusterKeyError, decodeKeyLine, defaultClusterKeyPath, loadClusterKey } from "../host/clusterKey.js";
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, type LinkSecurity } from "../host/linkSecurity.js";
import { parseFloatInRange } from "./options.js";

export interface SecurityFlags {
  clusterKey?: string;
  insecure: boolean;
  /** seconds */
  heartbeatTimeout: number;
}

export const INSECURE_WARNING = "warning: --insecure: cluster links are plaintext and unauthenticated; anyone who reaches a worker can use it and read the activations";

/** @param role "serve": the worker's wording; "connect": a root's */
export function addSecurityOptions(command: Command, role: "serve" | "connect"): Command {
  const who = role === "serve" ? "only peers holding the same key get in" : "workers must hold the same key";
  return command
    .option("--cluster-key <file>", `the cluster key (default: ${defaultClusterKeyPath()}; make one with \`layerstream keygen\` and copy it to every machine): links are CurveZMQ-encrypted and ${who}`)
    .option("--insecure", "plaintext links, no authentication: anyone who reaches a worker can use it (prints a warning on every start)", false)
    .option("--heartbeat-timeout <seconds>", "a peer that stops answering is dropped after this long (a lost worker's layers move to the others)", parseFloatInRange(0.2, 3600), DEFAULT_HEARTBEAT_TIMEOUT_MS / 1000);
}

/**
 * A worker's link security: the key handed over in LAYERSTREAM_CLUSTER_KEY (spawned workers),
 * else none with --insecure (warned), else the key file — a worker with neither refuses to start.
 */
export function linkSecurityFromFlags(flags: SecurityFlags, log: (line: string) => void, role: "worker"): LinkSecurity {
  const heartbeatTimeoutMs = Math.round(flags.heartbeatTimeout * 1000);
  const fromEnv = process.env[CLUSTER_KEY_ENV];
  if (fromEnv !== undefined) {
    delete process.env[CLUSTER_KEY_ENV];
    return { key: decodeKeyLine(fromEnv), heartbeatTimeoutMs };
  }
  if (flags.insecure) {
    log(INSECURE_WARNING);
    return { key: undefined, heartbeatTimeoutMs };
  }
  try {
    return { key: loadClusterKey(flags.clusterKey ?? defaultClusterKeyPath()), heartbeatTimeoutMs };
  } catch (error) {
    if (error instanceof ClusterKeyError && error.code === "NO_KEY") throw new ClusterKeyError("NO_KEY", `a ${role} needs the cluster key: ${error.message}; or pass --insecure to accept anyone`);
    throw error;
  }
}
