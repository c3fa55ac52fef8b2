/**
 * The cluster flags of `generate`, `profile`, `serve` and `chat`, and how they become
 * `loadModel()` options: --workers / --spawn-workers, --assign, --wire and the security flags.
 */
import { InvalidArgumentError, type Command } from "commander";
import { OptionError } from "../engine/errors.js";
import { ASSIGN_MODES, WIRE_ENCODINGS, type AssignMode, type LoadModelOptions, type WireName } from "../api/options.js";
import { parseExplicitAssignment } from "../root/cluster/assignment.js";
import { parseChoice, parseIntInRange } from "./options.js";
import { addSecurityOptions, type SecurityFlags } from "./securityFlags.js";

export interface ClusterCliFlags extends SecurityFlags {
  workers?: string;
  spawnWorkers?: number;
  assign: AssignMode | string;
  wire: WireName;
}

export function addClusterOptions(command: Command, spawnedLife: string): Command {
  command
    .option("--workers <addresses>", "run the layers on workers: comma-separated ZeroMQ addresses, e.g. tcp://10.0.0.2:5555,tcp://10.0.0.3:5555")
    .option("--spawn-workers <n>", `start n local worker processes (with --max-memory, each gets an equal part of it); they stop ${spawnedLife}`, parseIntInRange(1, 255))
    .option("--assign <mode>", `how layers are spread over the workers: ${ASSIGN_MODES.join(", ")} (auto: by each worker's memory and speed), or explicit ranges 0-9@HOST:PORT,10-21@HOST:PORT`, parseAssign, "auto")
    .option("--wire <encoding>", `activation encoding between nodes (${WIRE_ENCODINGS.join(", ")})`, parseChoice(WIRE_ENCODINGS), "q8_0");
  return addSecurityOptions(command, "connect");
}

function parseAssign(raw: string): AssignMode | string {
  if ((ASSIGN_MODES as readonly string[]).includes(raw)) return raw;
  try {
    if (parseExplicitAssignment(raw)) return raw;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--assign /, ""));
  }
  throw new InvalidArgumentError(`expected one of ${ASSIGN_MODES.join(", ")}, or ranges such as 0-9@10.0.0.2:5555,10-21@10.0.0.3:5555`);
}

/** The cluster flags as `loadModel()` options. */
export function clusterLoadOptions(flags: ClusterCliFlags): Pick<LoadModelOptions, "workers" | "assign" | "wire" | "clusterKey" | "insecure" | "heartbeatTimeoutMs"> {
  if (flags.workers !== undefined && flags.spawnWorkers !== undefined) throw new OptionError("BAD_WORKERS", "give --workers or --spawn-workers, not both");
  return {
    workers: flags.spawnWorkers ?? splitWorkers(flags.workers),
    assign: flags.assign,
    wire: flags.wire,
    clusterKey: flags.clusterKey,
    insecure: flags.insecure || undefined,
    heartbeatTimeoutMs: Math.round(flags.heartbeatTimeout * 1000),
  };
}

function splitWorkers(list: string | undefined): string[] | undefined {
  if (list === undefined) return undefined;
  const addresses = list.split(",").map((a) => a.trim()).filter((a) => a.length > 0);
  if (addresses.length === 0) throw new OptionError("BAD_WORKERS", `--workers "${list}" names no worker address (expected e.g. tcp://10.0.0.2:5555,tcp://10.0.0.3:5555)`);
  return addresses;
}
