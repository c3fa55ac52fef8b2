/**
 * `describeGguf`: the human-readable `layerstream inspect FILE` report, formatted from
 * `inspectGguf` (which `--json` prints as is).
 */
import type { GgufFile } from "./types.js";
import { inspectGguf, type GgufInspection, type JsonScalar } from "./inspection.js";

export { inspectGguf } from "./inspection.js";

/** The full report, ending with a newline. */
export function describeGguf(file: GgufFile): string {
  return formatInspection(inspectGguf(file));
}

function formatInspection(report: GgufInspection): string {
  const sections = [
    overview(report),
    keyValueSection(`hyper-parameters (${report.architecture ?? "no architecture"}.*)`, report.hyperParameters),
    tokenizerSection(report),
    keyValueSection("general.*", report.general),
    tensorSection(report),
    layerSection(report),
  ].filter((section) => section.length > 0);
  return sections.join("\n\n") + "\n";
}

function overview(r: GgufInspection): string {
  const rows: [string, string][] = [];
  if (r.path !== undefined) rows.push(["file", r.path]);
  rows.push(["size", formatBytes(r.fileBytes)]);
  rows.push(["format", `GGUF v${r.version}, alignment ${r.alignment}, ${r.nMetadata} metadata keys, data at offset ${groupDigits(r.dataOffset)}`]);
  rows.push(["architecture", r.architecture ?? "(none)"]);
  if (r.architectureFeatures !== undefined) rows.push(["features", r.architectureFeatures]);
  if (r.name !== undefined) rows.push(["name", r.name]);
  if (r.fileType !== undefined) rows.push(["file type", `${r.fileType.name} (${r.fileType.id})`]);
  rows.push(["tensors", `${r.tensors.length}, ${groupDigits(r.nParameters)} parameters, ${formatBytes(r.totalTensorBytes)}`]);
  return table(rows, [false, false]).join("\n");
}

function keyValueSection(title: string, values: Readonly<Record<string, JsonScalar | JsonScalar[]>>): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return "";
  const rows = entries.map(([key, value]): [string, string] => [key, formatValue(value)]);
  return [title, ...indent(table(rows, [false, false]))].join("\n");
}

function tokenizerSection(r: GgufInspection): string {
  const t = r.tokenizer;
  if (t === undefined) return "";
  const rows: [string, string][] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined) rows.push([label, value]);
  };
  add("model", t.model);
  add("pre", t.pre);
  add("tokens", t.nTokens === undefined ? undefined : groupDigits(t.nTokens));
  add("bos", tokenLabel(t.bosId, t.bosText));
  add("eos", tokenLabel(t.eosId, t.eosText));
  add("unknown", t.unknownId === undefined ? undefined : String(t.unknownId));
  add("padding", t.paddingId === undefined ? undefined : String(t.paddingId));
  add("add_bos_token", t.addBosToken === undefined ? undefined : String(t.addBosToken));
  add("add_eos_token", t.addEosToken === undefined ? undefined : String(t.addEosToken));
  add("merges", t.nMerges === undefined ? undefined : groupDigits(t.nMerges));
  add("chat template", t.hasChatTemplate ? "yes" : "no");
  return ["tokenizer", ...indent(table(rows, [false, false]))].join("\n");
}

function tokenLabel(id: number | undefined, text: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  return text === undefined ? String(id) : `${id} ${JSON.stringify(text)}`;
}

function tensorSection(r: GgufInspection): string {
  if (r.tensors.length === 0) return "tensors: none";
  const rows = r.tensors.map((t): string[] => [t.name, t.type, `[${t.dims.join(", ")}]`, groupDigits(t.nBytes)]);
  return [`tensors (${r.tensors.length})`, ...indent(table([["name", "type", "shape", "bytes"], ...rows], [false, false, false, true]))].join(
    "\n",
  );
}

function layerSection(r: GgufInspection): string {
  if (r.tensors.length === 0) return "";
  const rows: string[][] = [["layer", "tensors", "bytes", ""]];
  for (const layer of r.layers) rows.push([`blk.${layer.index}`, String(layer.nTensors), groupDigits(layer.nBytes), humanBytes(layer.nBytes)]);
  rows.push(["non-layer", String(r.nonLayer.nTensors), groupDigits(r.nonLayer.nBytes), humanBytes(r.nonLayer.nBytes)]);
  rows.push(["total", String(r.tensors.length), groupDigits(r.totalTensorBytes), humanBytes(r.totalTensorBytes)]);
  return ["bytes per layer", ...indent(table(rows, [false, true, true, true]))].join("\n");
}

function formatValue(value: JsonScalar | JsonScalar[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Pads each column to its widest cell; `alignRight[i]` right-aligns column i. */
function table(rows: readonly (readonly string[])[], alignRight: readonly boolean[]): string[] {
  const widths = alignRight.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, col) => (alignRight[col] ? cell.padStart(widths[col]) : cell.padEnd(widths[col])))
      .join("  ")
      .trimEnd(),
  );
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/** 1185376 → "1,185,376" */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function humanBytes(nBytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = nBytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
}

function formatBytes(nBytes: number): string {
  return `${groupDigits(nBytes)} bytes (${humanBytes(nBytes)})`;
}
