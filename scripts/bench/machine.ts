/** Machine facts for benchmark reports: the profile's node facts (src/telemetry/machineFacts.ts) plus the Node version. */
import { machineFacts as nodeMachineFacts, type MachineFacts as NodeMachineFacts } from "../../src/telemetry/machineFacts.js";

export interface MachineFacts extends NodeMachineFacts {
  node: string;
}

export async function machineFacts(): Promise<MachineFacts> {
  return { ...(await nodeMachineFacts()), node: process.version };
}

export function describeMachine(m: MachineFacts): string {
  return `${m.cpu}, ${m.physicalCores} physical / ${m.logicalCores} logical cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`;
}
