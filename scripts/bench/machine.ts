/** Machine facts for benchmark reports (systeminformation). */
import si from "systeminformation";
import os from "node:os";

export interface MachineFacts {
  cpu: string;
  physicalCores: number;
  logicalCores: number;
  memoryBytes: number;
  os: string;
  node: string;
}

export async function machineFacts(): Promise<MachineFacts> {
  const [cpu, mem, osInfo] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  return {
    cpu: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    physicalCores: cpu.physicalCores,
    logicalCores: cpu.cores,
    memoryBytes: mem.total,
    os: `${osInfo.distro} ${osInfo.release} (${os.release()})`,
    node: process.version,
  };
}

export function describeMachine(m: MachineFacts): string {
  return `${m.cpu}, ${m.physicalCores} physical / ${m.logicalCores} logical cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`;
}
