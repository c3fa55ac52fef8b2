/** Default thread count for the native kernels: the number of physical cores. */
import os from "node:os";
import si from "systeminformation";

/** Physical cores per `systeminformation`, else the logical CPU count. Never throws. */
export async function physicalCoreCount(): Promise<number> {
  try {
    const cpu = await si.cpu();
    if (Number.isInteger(cpu.physicalCores) && cpu.physicalCores > 0) return cpu.physicalCores;
  } catch {
    // fall through
  }
  return os.availableParallelism();
}
