/**
 * The per-node timeline of a profiled run: where each node's compute, disk waits and network
 * transfers fall on one time axis (the root's clock).
 *
 * Nodes time their work from their own receipt of a batch (no clock synchronisation), so
 * hops are laid out from each pass's startAtMs in pipeline order: the root embeds, then
 * each transfer takes an even share of the pass's networkMs, hop i starts after hop i − 1
 * plus that share, its layers sit at their offsets within the hop, and the root's output
 * head and sampling follow the last transfer. The axis starts at the first pass.
 */
import { formatBytes } from "../engine/streaming/byteSize.js";
import { BLOCK_OPS } from "../telemetry/records.js";
import type { ProfileRun } from "./profileRun.js";
import { OP_LABELS, formatMs, nodeName } from "./summarize.js";

/** The three rows of a node's lane. */
export type TimelineRow = "compute" | "io" | "network";
export type TimelineKind = "compute" | "io" | "queue" | "codec" | "network" | "embedding" | "outputHead" | "sampling";

export interface TimelineBar {
  /** lane: −1 the root, otherwise the worker index */
  readonly node: number;
  readonly row: TimelineRow;
  readonly kind: TimelineKind;
  readonly pass: number;
  readonly layer?: number;
  /** from the start of the first pass, root clock */
  readonly startMs: number;
  readonly endMs: number;
  /** hover text */
  readonly title: string;
}

export interface Timeline {
  readonly nodes: readonly { readonly node: number; readonly name: string }[];
  readonly bars: readonly TimelineBar[];
  /** pass boundaries: each pass's startAtMs, from the first pass's */
  readonly passStartsMs: readonly number[];
  readonly endMs: number;
}

const ROW_OF: Readonly<Record<TimelineKind, TimelineRow>> = {
  compute: "compute",
  queue: "compute",
  embedding: "compute",
  outputHead: "compute",
  sampling: "compute",
  io: "io",
  codec: "network",
  network: "network",
};

export function layoutTimeline(run: ProfileRun): Timeline {
  const names = new Map(run.nodes.map((facts) => [facts.node, nodeName(facts.node, facts)]));
  const nameOf = (node: number) => names.get(node) ?? nodeName(node);
  const bars: TimelineBar[] = [];
  const seen = new Set<number>([-1]);
  let endMs = 0;
  const originMs = Math.min(...run.passes.map((p) => p.startAtMs));

  for (const pass of run.passes) {
    const passStartMs = pass.startAtMs - originMs;
    const label = `pass ${pass.index} (${pass.phase}, ${pass.nTokens} token${pass.nTokens === 1 ? "" : "s"})`;
    const bar = (node: number, kind: TimelineKind, startMs: number, durationMs: number, title: string, layer?: number) => {
      seen.add(node);
      if (durationMs > 0) bars.push({ node, row: ROW_OF[kind], kind, pass: pass.index, layer, startMs, endMs: startMs + durationMs, title: `${label}: ${title}` });
    };
    let cursor = passStartMs;
    bar(-1, "embedding", cursor, pass.root.embedding, `embedding ${formatMs(pass.root.embedding)}`);
    cursor += pass.root.embedding;

    const remote = pass.hops.some((hop) => hop.node >= 0);
    const transferMs = remote ? pass.networkMs / (pass.hops.length + 1) : 0;
    const rootSentBytes = pass.wireBytes - pass.hops.reduce((sum, hop) => sum + hop.bytesSent, 0);
    let sender = -1;
    let sentBytes = rootSentBytes;
    for (const hop of pass.hops) {
      if (remote) {
        bar(sender, "network", cursor, transferMs, `${nameOf(sender)} → ${nameOf(hop.node)}, ${formatBytes(sentBytes)}, ≈${formatMs(transferMs)} (share of the pass's network time)`);
        cursor += transferMs;
      }
      const hopStart = cursor;
      bar(hop.node, "queue", hopStart, hop.queueMs, `${nameOf(hop.node)} queued ${formatMs(hop.queueMs)}`);
      bar(hop.node, "codec", hopStart + hop.queueMs, hop.decodeMs, `${nameOf(hop.node)} decoding activations ${formatMs(hop.decodeMs)}`);
      for (const layer of hop.layers) {
        const at = hopStart + layer.startAtMs;
        const io = `layer ${layer.layer} ${layer.cacheHit ? "cache hit" : `cache miss, ${formatBytes(layer.bytesRead)} read`}, waited ${formatMs(layer.ioWaitMs)} for disk`;
        bar(hop.node, "io", at, layer.ioWaitMs, io, layer.layer);
        const computeMs = layer.endAtMs - layer.startAtMs - layer.ioWaitMs;
        const ops = BLOCK_OPS.map((op) => `${OP_LABELS[op]} ${formatMs(layer.opMs[op])}`).join(", ");
        bar(hop.node, "compute", at + layer.ioWaitMs, computeMs, `layer ${layer.layer} compute ${formatMs(computeMs)}: ${ops}`, layer.layer);
      }
      bar(hop.node, "codec", hopStart + hop.totalMs - hop.encodeMs, hop.encodeMs, `${nameOf(hop.node)} encoding activations ${formatMs(hop.encodeMs)}`);
      cursor = hopStart + hop.totalMs;
      sender = hop.node;
      sentBytes = hop.bytesSent;
    }
    if (remote) {
      bar(sender, "network", cursor, transferMs, `${nameOf(sender)} → root, ${formatBytes(sentBytes)}, ≈${formatMs(transferMs)} (share of the pass's network time)`);
      cursor += transferMs;
    }
    bar(-1, "outputHead", cursor, pass.root.outputHead, `output head ${formatMs(pass.root.outputHead)}`);
    cursor += pass.root.outputHead;
    bar(-1, "sampling", cursor, pass.root.sampling, `sampling ${formatMs(pass.root.sampling)}`);
    cursor += pass.root.sampling;
    endMs = Math.max(endMs, cursor, passStartMs + pass.wallMs);
  }
  for (const facts of run.nodes) seen.add(facts.node);
  const nodes = [...seen].sort((a, b) => a - b).map((node) => ({ node, name: nameOf(node) }));
  return { nodes, bars, passStartsMs: run.passes.map((p) => p.startAtMs - originMs), endMs };
}

export const KIND_COLORS: Readonly<Record<TimelineKind, string>> = {
  compute: "#2e7d32",
  io: "#d62728",
  queue: "#9e9e9e",
  codec: "#ffb74d",
  network: "#7b4fc9",
  embedding: "#8d6e63",
  outputHead: "#e377c2",
  sampling: "#546e7a",
};

const GUTTER_PX = 120;
const ROW_PX = 14;
const LANE_GAP_PX = 10;
const AXIS_PX = 22;
const ROWS: readonly TimelineRow[] = ["compute", "io", "network"];

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The timeline as an SVG: one lane per node with compute / io / network rows, pass
 * boundaries as dashed lines, a <title> on every bar. Bars carry their times in data-t0/t1
 * (ms) so the report's zoom can re-place them.
 */
export function renderTimelineSvg(timeline: Timeline, widthPx = 1100): string {
  const laneHeightPx = ROWS.length * ROW_PX + LANE_GAP_PX;
  const heightPx = AXIS_PX + timeline.nodes.length * laneHeightPx;
  const plotPx = widthPx - GUTTER_PX - 10;
  const scale = timeline.endMs > 0 ? plotPx / timeline.endMs : 0;
  const x = (ms: number) => (GUTTER_PX + ms * scale).toFixed(2);
  const laneIndex = new Map(timeline.nodes.map((n, i) => [n.node, i]));
  const parts: string[] = [];
  parts.push(`<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" data-end-ms="${timeline.endMs}" data-gutter="${GUTTER_PX}">`);
  timeline.nodes.forEach((n, i) => {
    const y = AXIS_PX + i * laneHeightPx;
    parts.push(`<g class="lane" data-node="${n.node}">`);
    parts.push(`<rect class="lane-bg" x="0" y="${y - 2}" width="${widthPx}" height="${ROWS.length * ROW_PX + 4}" fill="${i % 2 ? "#fafafa" : "#f2f2f2"}"/>`);
    parts.push(`<text class="lane-label" x="6" y="${y + ROW_PX}" font-size="12" font-weight="bold">${esc(n.name)}</text>`);
    ROWS.forEach((row, r) => parts.push(`<text class="row-label" x="${GUTTER_PX - 6}" y="${y + r * ROW_PX + 10}" font-size="9" text-anchor="end" fill="#666">${row}</text>`));
    parts.push(`</g>`);
  });
  // pass boundaries with pass numbers (labels thinned so they do not overlap)
  let lastLabelPx = -Infinity;
  timeline.passStartsMs.forEach((startMs, pass) => {
    const px = Number(x(startMs));
    parts.push(`<line class="pass-boundary" data-pass="${pass}" data-t0="${startMs}" x1="${px}" x2="${px}" y1="${AXIS_PX - 6}" y2="${heightPx}" stroke="#888" stroke-dasharray="2,3" stroke-width="0.7"/>`);
    if (px - lastLabelPx >= 24) {
      parts.push(`<text class="pass-label" data-t0="${startMs}" x="${px + 2}" y="${AXIS_PX - 9}" font-size="9" fill="#444">${pass}</text>`);
      lastLabelPx = px;
    }
  });
  for (const bar of timeline.bars) {
    const lane = laneIndex.get(bar.node) ?? 0;
    const y = AXIS_PX + lane * laneHeightPx + ROWS.indexOf(bar.row) * ROW_PX + 1;
    const widthAt = Math.max(0.6, (bar.endMs - bar.startMs) * scale).toFixed(2);
    const layer = bar.layer === undefined ? "" : ` data-layer="${bar.layer}"`;
    parts.push(
      `<rect class="bar ${bar.kind}" data-node="${bar.node}" data-pass="${bar.pass}"${layer} data-t0="${bar.startMs}" data-t1="${bar.endMs}" ` +
        `x="${x(bar.startMs)}" y="${y}" width="${widthAt}" height="${ROW_PX - 2}" fill="${KIND_COLORS[bar.kind]}" stroke="#fff" stroke-width="0.4"><title>${esc(bar.title)}</title></rect>`,
    );
  }
  parts.push(`<text class="axis-label" x="6" y="${AXIS_PX - 9}" font-size="9" fill="#444">pass (${esc(formatMs(timeline.endMs))} in all) →</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}
