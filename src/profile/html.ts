/**
 * The self-contained HTML report of a profiled run (`npm run profile -- … --out FILE`):
 * inline CSS, SVG and a few lines of JavaScript (timeline zoom); opens without a network.
 * Sections: the bottlenecks, where the time went (one stacked bar), the per-node timeline,
 * a stacked bar per layer, the nodes' machine facts, and the text table.
 */
import { formatBytes } from "../engine/streaming/byteSize.js";
import { BLOCK_OPS } from "../telemetry/records.js";
import type { ProfileRun } from "./profileRun.js";
import { OP_LABELS, formatMs, percent, type PartKey, type ProfileSummary } from "./summarize.js";
import { KIND_COLORS, layoutTimeline, renderTimelineSvg } from "./timeline.js";

export const PART_COLORS: Readonly<Record<PartKey, string>> = {
  ioWait: KIND_COLORS.io,
  attnProjections: "#1f77b4",
  attention: "#17becf",
  ffn: "#2e7d32",
  normsRope: "#bcbd22",
  queue: KIND_COLORS.queue,
  codec: KIND_COLORS.codec,
  network: KIND_COLORS.network,
  embedding: KIND_COLORS.embedding,
  outputHead: KIND_COLORS.outputHead,
  sampling: KIND_COLORS.sampling,
  other: "#dddddd",
};

export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** One 100% bar of the parts of the wall time, with a legend. */
function partsBar(summary: ProfileSummary, widthPx = 1100): string {
  const visible = summary.parts.filter((p) => p.ms > 0);
  let at = 0;
  const rects = visible.map((p) => {
    const w = p.share * widthPx;
    const rect = `<rect class="part ${p.key}" x="${at.toFixed(2)}" y="0" width="${Math.max(0.5, w).toFixed(2)}" height="26" fill="${PART_COLORS[p.key]}"><title>${esc(`${p.label}: ${formatMs(p.ms)} (${percent(p.share)})`)}</title></rect>`;
    const caption = `${p.label} ${percent(p.share)}`;
    const text = w > caption.length * 6.5 + 8 ? `<text x="${(at + 4).toFixed(2)}" y="17" font-size="11" fill="#fff">${esc(caption)}</text>` : "";
    at += w;
    return rect + text;
  });
  return `<svg id="parts" xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="26">${rects.join("")}</svg>${legend(visible.map((p) => [p.label, PART_COLORS[p.key]]))}`;
}

function legend(entries: readonly (readonly [string, string])[]): string {
  return `<div class="legend">${entries.map(([label, color]) => `<span><i style="background:${color}"></i>${esc(label)}</span>`).join("")}</div>`;
}

/** A horizontal stacked bar per layer: disk wait then each operation, scaled to the slowest layer. */
function layerBars(summary: ProfileSummary, widthPx = 1100): string {
  const gutterPx = 150;
  const rowPx = 18;
  const plotPx = widthPx - gutterPx - 230;
  const maxMs = Math.max(1e-9, ...summary.layers.map((l) => l.totalMs));
  const keys: readonly PartKey[] = ["ioWait", ...BLOCK_OPS];
  const rows = summary.layers.map((l, i) => {
    const y = i * rowPx;
    let at = gutterPx;
    const segs = keys.map((key) => {
      const ms = key === "ioWait" ? l.ioWaitMs : l.opMs[key as (typeof BLOCK_OPS)[number]];
      const w = (ms / maxMs) * plotPx;
      const label = key === "ioWait" ? "disk wait" : OP_LABELS[key as (typeof BLOCK_OPS)[number]];
      const seg = ms > 0 ? `<rect class="seg ${key}" x="${at.toFixed(2)}" y="${y + 2}" width="${Math.max(0.5, w).toFixed(2)}" height="${rowPx - 4}" fill="${PART_COLORS[key]}"><title>${esc(`layer ${l.layer}: ${label} ${formatMs(ms)}`)}</title></rect>` : "";
      at += w;
      return seg;
    });
    const hitText = `${l.hits} hit${l.hits === 1 ? "" : "s"}, ${l.misses} miss${l.misses === 1 ? "" : "es"}`;
    return (
      `<g class="layer-bar" data-layer="${l.layer}" data-node="${l.node}">` +
      `<text class="layer-label" x="4" y="${y + 13}" font-size="11">${esc(`layer ${l.layer} · ${l.nodeName}`)}</text>${segs.join("")}` +
      `<text x="${(at + 6).toFixed(2)}" y="${y + 13}" font-size="10" fill="#444">${esc(`${formatMs(l.totalMs)} (${percent(l.share)}) · ${hitText}`)}</text></g>`
    );
  });
  const svg = `<svg id="layers" xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${summary.layers.length * rowPx + 4}">${rows.join("")}</svg>`;
  return svg + legend(keys.map((key) => [key === "ioWait" ? "disk wait" : OP_LABELS[key as (typeof BLOCK_OPS)[number]], PART_COLORS[key]]));
}

function nodeTable(summary: ProfileSummary): string {
  const head = ["node", "host", "CPU", "cores (phys/log)", "memory (avail)", "disk", "OS", "kernels", "budget", "layers (resident)", "compute", "disk wait", "queue", "busy"];
  const rows = summary.nodes.map((n) => {
    const f = n.facts;
    const cells = [
      f?.label ?? n.name,
      f?.hostname ?? "",
      f?.cpu ?? "",
      f ? `${f.physicalCores}/${f.logicalCores}` : "",
      f ? `${formatBytes(f.memoryBytes)} (${formatBytes(f.availableMemoryBytes)})` : "",
      f?.disk || "unknown",
      f?.os ?? "",
      f?.kernels ?? "",
      f ? formatBytes(f.budgetBytes) : "",
      `${n.layers.length}${f ? ` (${f.layersResident})` : ""}`,
      formatMs(n.computeMs),
      formatMs(n.ioWaitMs),
      formatMs(n.queueMs),
      `${formatMs(n.busyMs)} (${percent(n.share)})`,
    ];
    return `<tr data-node="${n.node}">${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
  });
  return `<table id="nodes"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1160px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: #555; font-size: 12px; } code { font-size: 12px; }
ol.bottlenecks li { margin: 4px 0; font-size: 15px; }
.legend { font-size: 11px; color: #444; margin: 4px 0 0; } .legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12px; } th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
th { background: #f4f4f4; } pre { font-size: 11px; background: #f8f8f8; padding: 8px; overflow-x: auto; }
.zoom { font-size: 12px; margin: 0 0 6px; }
`;

/** Zoom re-places every timeline element from its data-t0/data-t1 (ms). */
const ZOOM_SCRIPT = `
(() => {
  const svg = document.getElementById("timeline");
  const input = document.getElementById("zoom");
  if (!svg || !input) return;
  const baseWidth = Number(svg.getAttribute("width"));
  const gutter = Number(svg.dataset.gutter);
  const endMs = Number(svg.dataset.endMs);
  const apply = () => {
    const width = baseWidth * Number(input.value);
    const scale = endMs > 0 ? (width - gutter - 10) / endMs : 0;
    svg.setAttribute("width", String(width));
    for (const el of svg.querySelectorAll("[data-t0]")) {
      const x = gutter + Number(el.dataset.t0) * scale;
      if (el.tagName === "line") { el.setAttribute("x1", x); el.setAttribute("x2", x); }
      else if (el.tagName === "text") el.setAttribute("x", x + 2);
      else { el.setAttribute("x", x); el.setAttribute("width", Math.max(0.6, (Number(el.dataset.t1) - Number(el.dataset.t0)) * scale)); }
    }
    for (const bg of svg.querySelectorAll(".lane-bg")) bg.setAttribute("width", String(width));
    document.getElementById("zoom-value").textContent = input.value + "×";
  };
  input.addEventListener("input", apply);
})();
`;

export function renderHtml(run: ProfileRun, summary: ProfileSummary, tableText: string): string {
  const timeline = layoutTimeline(run);
  const workers = summary.nodes.filter((n) => n.node >= 0).length;
  const title = `layerstream profile: ${run.model.path.split("/").pop() ?? run.model.path}`;
  const meta =
    `${summary.nPasses} passes (${summary.nPromptPasses} prompt of ${summary.nPromptTokens} tokens, ${summary.nDecodePasses} decode) · ` +
    `${formatMs(summary.wallMs)} wall · ${workers > 0 ? `${workers} workers` : "local run"} · ${run.model.nLayer} layers, ${formatBytes(run.model.fileBytes)} file`;
  const bottlenecks = summary.bottlenecks.slice(0, 3);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<div class="meta">${esc(meta)}<br><code>${esc(run.argv.join(" "))}</code></div>
<h2>Bottlenecks</h2>
<ol class="bottlenecks">${bottlenecks.length ? bottlenecks.map((b) => `<li data-kind="${b.kind}">${esc(b.sentence)}</li>`).join("") : "<li>nothing takes 1% of the time or more</li>"}</ol>
<h2>Where the time went</h2>
${partsBar(summary)}
<h2>Timeline per node</h2>
<div class="zoom">zoom <input id="zoom" type="range" min="1" max="64" step="1" value="1"> <span id="zoom-value">1×</span> · hover a bar for details; dashed lines start each pass (numbered)</div>
<div class="scroll">${renderTimelineSvg(timeline)}</div>
${legend([
  ["compute (layers)", KIND_COLORS.compute],
  ["disk wait", KIND_COLORS.io],
  ["network transfer", KIND_COLORS.network],
  ["activation encode/decode", KIND_COLORS.codec],
  ["queueing", KIND_COLORS.queue],
  ["embedding", KIND_COLORS.embedding],
  ["output head", KIND_COLORS.outputHead],
  ["sampling", KIND_COLORS.sampling],
])}
<h2>Per layer</h2>
${layerBars(summary)}
<h2>Nodes</h2>
${nodeTable(summary)}
<h2>Table</h2>
<pre id="table">${esc(tableText)}</pre>
<script>${ZOOM_SCRIPT}</script>
</body></html>
`;
}
