/**
 * The profile as plain-text tables (what `npm run profile` prints): bottlenecks first, then
 * per layer, per operation, per node, root operations and the network.
 */
import { BLOCK_OPS } from "../telemetry/records.js";
import { formatBytes } from "../engine/streaming/byteSize.js";
import { OP_LABELS, formatMs, percent, type ProfileSummary } from "./summarize.js";

type Align = "left" | "right";

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (align[c] === "right" ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The first `count` bottleneck sentences, numbered and indented. */
function bottleneckLines(summary: ProfileSummary, count = 3): string[] {
  const top = summary.bottlenecks.slice(0, count);
  if (top.length === 0) return ["  (nothing takes 1% of the time or more)"];
  return top.map((b, i) => `  ${i + 1}. ${b.sentence}`);
}

export function renderTable(summary: ProfileSummary): string {
  const s = summary;
  // small runs (a few ms per pass) get two decimals
  const digits = s.wallMs / Math.max(1, s.nPasses) < 20 ? 2 : 1;
  const ms: FormatMs = (value) => value.toFixed(digits);
  return [
    titleLine(s),
    "",
    "Bottlenecks",
    ...bottleneckLines(s),
    "",
    "Per layer",
    layerTable(s, ms),
    "",
    "Per operation",
    partTable(s, ms),
    "",
    "Per node",
    nodeTable(s, ms),
    "",
    "Root",
    rootTable(s, ms),
    "",
    networkLine(s, ms),
    "",
  ].join("\n");
}

/** milliseconds as the tables print them (no unit) */
type FormatMs = (value: number) => string;

function titleLine(s: ProfileSummary): string {
  const workers = s.nodes.filter((n) => n.node >= 0);
  return (
    `profile: ${s.nPasses} passes (${s.nPromptPasses} prompt of ${s.nPromptTokens} tokens, ${s.nDecodePasses} decode), ` +
    `${formatMs(s.wallMs)} wall, ` +
    (workers.length > 0 ? `${workers.length} workers` : "local") +
    (s.nDecodePasses > 0 ? `, ${formatMs(decodeMsPerToken(s))} per decoded token` : "")
  );
}

function layerTable(s: ProfileSummary, ms: FormatMs): string {
  return formatTable(
    ["layer", "node", "hits", "misses", "read", "io wait ms", ...BLOCK_OPS.map((op) => `${shortOp(op)} ms`), "total ms", "share"],
    s.layers.map((l) => [
      String(l.layer),
      l.nodeName,
      String(l.hits),
      String(l.misses),
      formatBytes(l.bytesRead),
      ms(l.ioWaitMs),
      ...BLOCK_OPS.map((op) => ms(l.opMs[op])),
      ms(l.totalMs),
      percent(l.share),
    ]),
    ["right", "left", "right", "right", "right", "right", ...BLOCK_OPS.map((): Align => "right"), "right", "right"],
  );
}

function partTable(s: ProfileSummary, ms: FormatMs): string {
  return formatTable(
    ["where the time went", "total ms", "per pass ms", "share"],
    s.parts.map((p) => [p.label, ms(p.ms), ms(p.ms / Math.max(1, s.nPasses)), percent(p.share)]),
    ["left", "right", "right", "right"],
  );
}

function nodeTable(s: ProfileSummary, ms: FormatMs): string {
  return formatTable(
    ["node", "layers", "resident", "budget", "compute ms", "io wait ms", "queue ms", "codec ms", "busy ms", "share", "misses", "read", "sent"],
    s.nodes.map((n) => [
      n.name,
      String(n.layers.length),
      n.facts ? String(n.facts.layersResident) : "-",
      n.facts ? formatBytes(n.facts.budgetBytes) : "-",
      ms(n.computeMs),
      ms(n.ioWaitMs),
      ms(n.queueMs),
      ms(n.codecMs),
      ms(n.busyMs),
      percent(n.share),
      String(n.misses),
      formatBytes(n.bytesRead),
      formatBytes(n.bytesSent),
    ]),
    ["left", ...new Array<Align>(12).fill("right")],
  );
}

function rootTable(s: ProfileSummary, ms: FormatMs): string {
  return formatTable(
    ["root op", "total ms", "per pass ms", "share"],
    (["embedding", "outputHead", "sampling"] as const).map((key) => {
      const value = s.root[key];
      return [key === "outputHead" ? "output head" : key, ms(value), ms(value / Math.max(1, s.nPasses)), percent(shareOfWall(s, value))];
    }),
    ["left", "right", "right", "right"],
  );
}

function networkLine(s: ProfileSummary, ms: FormatMs): string {
  if (!(s.transfers > 0)) return "network: none (local run)";
  return (
    `network: ${s.transfers} transfers, ${formatBytes(s.wireBytes)} of activations, ${ms(s.networkMs)} ms on the wire ` +
    `(${percent(shareOfWall(s, s.networkMs))}; ${formatMs(s.networkMs / s.transfers)} and ${formatBytes(Math.round(s.wireBytes / s.transfers))} per transfer)`
  );
}

/** `ms` as a fraction of the wall time (0 for an empty run) */
function shareOfWall(s: ProfileSummary, ms: number): number {
  return s.wallMs > 0 ? ms / s.wallMs : 0;
}

/** Mean wall time of the decode passes (one token each). */
function decodeMsPerToken(s: ProfileSummary): number {
  return s.decodeWallMs / Math.max(1, s.nDecodePasses);
}

function shortOp(op: (typeof BLOCK_OPS)[number]): string {
  return { attnProjections: "attn proj", attention: "attention", ffn: "ffn", normsRope: "norm/rope" }[op] ?? OP_LABELS[op];
}
