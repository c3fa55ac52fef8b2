/**
 * `layerstream status --workers …`: one block per worker — the layers it holds for the root it
 * serves, its memory budget and free memory, disk speed, a timed layer, cache hits.
 */
import { Command } from "commander";
import { workerStatus, type WorkerReport } from "../../api/workerStatus.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import type { CliIo } from "../io.js";
import { addSecurityOptions, type SecurityFlags } from "../securityFlags.js";

interface StatusFlags extends SecurityFlags {
  workers: string;
  json: boolean;
}

export function statusCommand(io: CliIo): Command {
  const command = new Command("status")
    .description("show each worker's layers, memory, budget, disk speed and cache hits")
    .requiredOption("-w, --workers <addresses>", "comma-separated worker addresses, e.g. tcp://10.0.0.2:5555,tcp://10.0.0.3:5555")
    .option("--json", "print the reports as JSON", false);
  return addSecurityOptions(command, "connect").action(async (flags: StatusFlags) => {
    const workers = flags.workers.split(",").map((a) => a.trim()).filter((a) => a.length > 0);
    const reports = await workerStatus({ workers, clusterKey: flags.clusterKey, insecure: flags.insecure, log: (line) => io.progress(line) });
    io.writeOut(flags.json ? `${JSON.stringify(reports, null, 2)}\n` : reports.map(describeReport).join("\n"));
  });
}

/** A few lines for one worker. */
export function describeReport(report: WorkerReport): string {
  const { stats } = report;
  if (!stats) return `${report.address}: not answering (${report.error})\n`;
  const status = stats.status;
  const lines = [`${report.address}: ${status?.models.map((m) => `${m.file} (${m.nLayer} layers, ${formatBytes(m.fileBytes)})`).join(", ") ?? "?"}`];
  const session = status?.session;
  lines.push(session ? `  session ${session.id}: layers ${ranges(session.layers)} (${Math.min(session.layersResident, session.layers.length)} of ${session.layers.length} fit), ${session.sequences} sequences, budget ${formatBytes(session.budgetBytes)}` : "  idle: no root session");
  const c = status?.capacity;
  if (c) lines.push(`  memory: budget ${formatBytes(c.budgetBytes)}${c.budgetGiven ? " (--max-memory)" : ""}, free ${formatBytes(c.freeMemoryBytes)}; disk ${formatBytes(c.diskBytesPerSecond)}/s; one layer ${(c.layerSeconds * 1000).toFixed(2)} ms; ${c.threads} threads`);
  const lookups = stats.cacheHits + stats.cacheMisses;
  lines.push(`  since assignment: ${stats.batches} batches, ${stats.computeSeconds.toFixed(2)} s compute, cache ${stats.cacheHits} hits / ${stats.cacheMisses} misses${lookups > 0 ? ` (${((100 * stats.cacheHits) / lookups).toFixed(0)}%)` : ""}, ${formatBytes(stats.bytesRead)} read, ${stats.badFrames} frames rejected`);
  return `${lines.join("\n")}\n`;
}

/** e.g. "0-3, 8-11" */
function ranges(layers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j] + 1) j++;
    parts.push(i === j ? `${layers[i]}` : `${layers[i]}-${layers[j]}`);
    i = j + 1;
  }
  return parts.join(", ") || "none";
}
