/**
 * A node's machine, for profile reports (`npm run profile`): CPU, cores, memory, disk, OS, from
 * systeminformation. Collected once per process (the calls take tens of ms); never throws —
 * what cannot be read is reported empty or 0.
 */
import os from "node:os";
import si from "systeminformation";
import type { MachineFacts } from "./records.js";

export type { MachineFacts };

let cached: Promise<Omit<MachineFacts, "availableMemoryBytes">> | undefined;

export async function machineFacts(): Promise<MachineFacts> {
  cached ??= (async () => {
    const [cpu, osInfo, disks, filesystems] = await Promise.all([
      si.cpu().catch(() => undefined),
      si.osInfo().catch(() => undefined),
      si.diskLayout().catch(() => []),
      si.fsSize().catch(() => []),
    ]);
    const disk = disks[0];
    // virtual machines often report no disk layout: name the root filesystem's device instead
    const rootFs = filesystems.find((f) => f.mount === "/") ?? filesystems[0];
    return {
      hostname: os.hostname(),
      cpu: cpu ? `${cpu.manufacturer} ${cpu.brand}`.trim() : (os.cpus()[0]?.model ?? ""),
      physicalCores: cpu?.physicalCores ?? 0,
      logicalCores: cpu?.cores ?? os.cpus().length,
      memoryBytes: os.totalmem(),
      disk: disk
        ? `${disk.name || disk.device} ${(disk.size / 1e9).toFixed(0)} GB${disk.interfaceType ? ` (${disk.interfaceType})` : disk.type ? ` (${disk.type})` : ""}`.trim()
        : rootFs
          ? `${rootFs.fs} ${(rootFs.size / 1e9).toFixed(0)} GB (${rootFs.type})`
          : "",
      os: osInfo ? `${osInfo.distro} ${osInfo.release} (${osInfo.kernel})` : `${os.type()} ${os.release()}`,
    };
  })();
  const available = await si.mem().then((m) => m.available).catch(() => os.freemem());
  return { ...(await cached), availableMemoryBytes: available };
}
