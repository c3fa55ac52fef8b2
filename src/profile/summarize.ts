/**
 * Pure aggregation of a ProfileRun: where the wall time went, per layer, per operation, per
 * node, and the three biggest causes as plain sentences. The table, the HTML report and the
 * tests all read this one summary. Milliseconds throughout; shares are fractions of the
 * summed wall time of every pass.
 */
import { BLOCK_OPS, type BlockOp, type HopTiming } from "../telemetry/records.js";
import type { ProfileNode, ProfileRun, RootOpsMs } from "./profileRun.js";
import { formatBytes } from "../engine/streaming/byteSize.js";

export const OP_LABELS: Readonly<Record<BlockOp, string>> = {
  attnProjections: "attention projections",
  attention: "attention",
  ffn: "feed-forward (FFN)",
  normsRope: "norms and RoPE",
};

/** What the layer runs of a layer, or of a node, add up to. */
export interface LayerRunTotals {
  /** layer runs whose weights were in memory */
  readonly hits: number;
  /** layer runs that read their weights from disk */
  readonly misses: number;
  readonly bytesRead: number;
  readonly ioWaitMs: number;
  readonly opMs: Readonly<Record<BlockOp, number>>;
  /** the sum of opMs */
  readonly computeMs: number;
}

export interface LayerSummary extends LayerRunTotals {
  readonly layer: number;
  /** the node that ran it (−1: the root's own runner) */
  readonly node: number;
  readonly nodeName: string;
  readonly runs: number;
  /** ioWaitMs + computeMs */
  readonly totalMs: number;
  readonly share: number;
}

export interface NodeSummary extends LayerRunTotals {
  readonly node: number;
  /** "root", "worker 1" */
  readonly name: string;
  readonly facts?: ProfileNode;
  readonly layers: readonly number[];
  readonly hops: number;
  readonly layerRuns: number;
  readonly queueMs: number;
  /** decoding incoming + encoding outgoing activations */
  readonly codecMs: number;
  readonly bytesSent: number;
  /** sum of the node's hop totals (receipt to hand-off) */
  readonly busyMs: number;
  readonly share: number;
}

export type PartKey = "ioWait" | BlockOp | "queue" | "codec" | "network" | "embedding" | "outputHead" | "sampling" | "other";

/** One slice of the wall time; the parts add up to the wall time ("other": what no timer saw). */
export interface PartSummary {
  readonly key: PartKey;
  readonly label: string;
  readonly ms: number;
  readonly share: number;
}

export type BottleneckKind = "disk" | "compute" | "network" | "outputHead" | "embedding" | "sampling" | "queue" | "codec" | "imbalance";

export interface Bottleneck {
  readonly kind: BottleneckKind;
  /** the node it concerns, when it concerns one */
  readonly node?: number;
  readonly ms: number;
  readonly share: number;
  readonly sentence: string;
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly nPasses: number;
  readonly nPromptPasses: number;
  readonly nPromptTokens: number;
  readonly nDecodePasses: number;
  /** wall time of the decode passes (one token each) */
  readonly decodeWallMs: number;
  readonly layers: readonly LayerSummary[];
  readonly nodes: readonly NodeSummary[];
  readonly parts: readonly PartSummary[];
  readonly root: RootOpsMs;
  readonly networkMs: number;
  readonly wireBytes: number;
  /** network transfers over all passes (hops + 1 per pass in a cluster, 0 locally) */
  readonly transfers: number;
  /** every candidate cause, biggest first; the report shows the first three */
  readonly bottlenecks: readonly Bottleneck[];
}

/** Bottlenecks smaller than this share of the wall time are not named. */
const MIN_BOTTLENECK_SHARE = 0.01;
/** one node's time per layer this many times another's counts as an imbalance */
const IMBALANCE_RATIO = 1.5;

export function nodeName(node: number, facts?: ProfileNode): string {
  if (facts?.label) return facts.label.replace(/\s*\(.*\)$/, "");
  return node < 0 ? "root" : `worker ${node + 1}`;
}

/** 0.623 → "62%"; below 1% → "<1%" */
export function percent(share: number): string {
  if (share > 0 && share < 0.005) return "<1%";
  return `${Math.round(share * 100)}%`;
}

/** 1234.5 → "1.23 s", 12.34 → "12.3 ms", 0.1234 → "0.12 ms" */
export function formatMs(ms: number): string {
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

function zeroOps(): Record<BlockOp, number> {
  return { attnProjections: 0, attention: 0, ffn: 0, normsRope: 0 };
}

function sumOps(opMs: Readonly<Record<BlockOp, number>>): number {
  return BLOCK_OPS.reduce((sum, op) => sum + opMs[op], 0);
}

/** LayerRunTotals while they are being added up (computeMs comes at the end). */
interface MutableTotals {
  hits: number;
  misses: number;
  bytesRead: number;
  ioWaitMs: number;
  opMs: Record<BlockOp, number>;
}

interface MutableLayer extends MutableTotals {
  node: number;
  runs: number;
}

interface MutableNode extends MutableTotals {
  node: number;
  layers: Set<number>;
  hops: number;
  layerRuns: number;
  queueMs: number;
  codecMs: number;
  bytesSent: number;
  busyMs: number;
}

/** The passes' sums: per layer, per node, and the root's and the network's. */
interface PassTotals {
  readonly layers: Map<number, MutableLayer>;
  readonly nodes: Map<number, MutableNode>;
  readonly root: Record<keyof RootOpsMs, number>;
  networkMs: number;
  wireBytes: number;
  transfers: number;
}

type Share = (ms: number) => number;

export function summarize(run: ProfileRun): ProfileSummary {
  const wallMs = run.passes.reduce((sum, pass) => sum + pass.wallMs, 0);
  const share: Share = (ms) => (wallMs > 0 ? ms / wallMs : 0);
  const factsByNode = new Map(run.nodes.map((facts) => [facts.node, facts]));
  const totals = addUpPasses(run);
  const nodes = nodeSummaries(totals.nodes, factsByNode, share);
  const nPromptPasses = run.passes.filter((p) => p.phase === "prompt").length;
  const summary = {
    wallMs,
    nPasses: run.passes.length,
    nPromptPasses,
    nPromptTokens: run.passes.filter((p) => p.phase === "prompt").reduce((sum, p) => sum + p.nTokens, 0),
    nDecodePasses: run.passes.length - nPromptPasses,
    decodeWallMs: run.passes.filter((p) => p.phase === "decode").reduce((sum, p) => sum + p.wallMs, 0),
    layers: layerSummaries(totals.layers, factsByNode, share),
    nodes,
    parts: partSummaries(nodes, totals, wallMs, share),
    root: totals.root,
    networkMs: totals.networkMs,
    wireBytes: totals.wireBytes,
    transfers: totals.transfers,
  };
  return { ...summary, bottlenecks: findBottlenecks(summary, share) };
}

function addUpPasses(run: ProfileRun): PassTotals {
  const totals: PassTotals = { layers: new Map(), nodes: new Map(), root: { embedding: 0, outputHead: 0, sampling: 0 }, networkMs: 0, wireBytes: 0, transfers: 0 };
  for (const pass of run.passes) {
    totals.root.embedding += pass.root.embedding;
    totals.root.outputHead += pass.root.outputHead;
    totals.root.sampling += pass.root.sampling;
    totals.networkMs += pass.networkMs;
    totals.wireBytes += pass.wireBytes;
    totals.transfers += networkTransfers(pass.hops);
    for (const hop of pass.hops) addHop(totals.nodes, totals.layers, hop);
  }
  return totals;
}

function layerSummaries(layers: ReadonlyMap<number, MutableLayer>, factsByNode: ReadonlyMap<number, ProfileNode>, share: Share): LayerSummary[] {
  return [...layers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([layer, l]) => {
      const computeMs = sumOps(l.opMs);
      const totalMs = l.ioWaitMs + computeMs;
      return { layer, ...l, nodeName: nodeName(l.node, factsByNode.get(l.node)), computeMs, totalMs, share: share(totalMs) };
    });
}

/** Every node that ran a hop or reported its facts, in node order. */
function nodeSummaries(nodes: ReadonlyMap<number, MutableNode>, factsByNode: ReadonlyMap<number, ProfileNode>, share: Share): NodeSummary[] {
  const nodeIds = new Set([...nodes.keys(), ...factsByNode.keys()]);
  return [...nodeIds]
    .sort((a, b) => a - b)
    .map((node) => {
      const n = nodes.get(node) ?? emptyNode(node);
      const facts = factsByNode.get(node);
      return {
        node,
        name: nodeName(node, facts),
        facts,
        layers: facts?.layers.length ? facts.layers : [...n.layers].sort((a, b) => a - b),
        hops: n.hops,
        layerRuns: n.layerRuns,
        hits: n.hits,
        misses: n.misses,
        bytesRead: n.bytesRead,
        ioWaitMs: n.ioWaitMs,
        opMs: n.opMs,
        computeMs: sumOps(n.opMs),
        queueMs: n.queueMs,
        codecMs: n.codecMs,
        bytesSent: n.bytesSent,
        busyMs: n.busyMs,
        share: share(n.busyMs),
      };
    });
}

/** The wall time in slices that add up to it; "other" is what no timer saw. */
function partSummaries(nodes: readonly NodeSummary[], totals: PassTotals, wallMs: number, share: Share): PartSummary[] {
  const total = (pick: (n: NodeSummary) => number) => nodes.reduce((sum, n) => sum + pick(n), 0);
  const opTotals = zeroOps();
  for (const n of nodes) for (const op of BLOCK_OPS) opTotals[op] += n.opMs[op];
  const measured: Array<[PartKey, string, number]> = [
    ["ioWait", "disk wait", total((n) => n.ioWaitMs)],
    ...BLOCK_OPS.map((op): [PartKey, string, number] => [op, OP_LABELS[op], opTotals[op]]),
    ["queue", "queueing", total((n) => n.queueMs)],
    ["codec", "activation encode/decode", total((n) => n.codecMs)],
    ["network", "network", totals.networkMs],
    ["embedding", "embedding (root)", totals.root.embedding],
    ["outputHead", "output head (root)", totals.root.outputHead],
    ["sampling", "sampling (root)", totals.root.sampling],
  ];
  const otherMs = wallMs - measured.reduce((sum, [, , ms]) => sum + ms, 0);
  return [...measured, ["other", "other (not timed)", otherMs] as [PartKey, string, number]].map(([key, label, ms]) => ({
    key,
    label,
    ms,
    share: share(ms),
  }));
}

/** Messages on the network in one pass: root → first node, node → node, last node → root. */
function networkTransfers(hops: readonly HopTiming[]): number {
  return hops.some((hop) => hop.node >= 0) ? hops.length + 1 : 0;
}

function emptyNode(node: number): MutableNode {
  return { node, layers: new Set(), hops: 0, layerRuns: 0, hits: 0, misses: 0, bytesRead: 0, ioWaitMs: 0, opMs: zeroOps(), queueMs: 0, codecMs: 0, bytesSent: 0, busyMs: 0 };
}

function addHop(nodes: Map<number, MutableNode>, layers: Map<number, MutableLayer>, hop: HopTiming): void {
  let n = nodes.get(hop.node);
  if (!n) nodes.set(hop.node, (n = emptyNode(hop.node)));
  n.hops++;
  n.queueMs += hop.queueMs;
  n.codecMs += hop.decodeMs + hop.encodeMs;
  n.bytesSent += hop.bytesSent;
  n.busyMs += hop.totalMs;
  for (const timing of hop.layers) {
    let l = layers.get(timing.layer);
    if (!l) layers.set(timing.layer, (l = { node: hop.node, runs: 0, hits: 0, misses: 0, bytesRead: 0, ioWaitMs: 0, opMs: zeroOps() }));
    for (const target of [l, n]) {
      target.hits += timing.cacheHit ? 1 : 0;
      target.misses += timing.cacheHit ? 0 : 1;
      target.bytesRead += timing.bytesRead;
      target.ioWaitMs += timing.ioWaitMs;
      for (const op of BLOCK_OPS) target.opMs[op] += timing.opMs[op];
    }
    l.runs++;
    n.layerRuns++;
    n.layers.add(timing.layer);
  }
}

type SummaryWithoutBottlenecks = Omit<ProfileSummary, "bottlenecks">;

/** Every candidate cause with its cost in ms and a sentence; biggest first. */
function findBottlenecks(s: SummaryWithoutBottlenecks, share: Share): Bottleneck[] {
  const found: Bottleneck[] = [];
  const add = (kind: BottleneckKind, ms: number, text: (pct: string) => string, node?: number) => {
    if (share(ms) >= MIN_BOTTLENECK_SHARE) found.push({ kind, node, ms, share: share(ms), sentence: text(percent(share(ms))) });
  };
  const distributed = s.nodes.some((n) => n.node >= 0 && n.layerRuns > 0);

  for (const n of s.nodes) {
    const where = nodeWhere(n, distributed);
    add("disk", n.ioWaitMs, (pct) => `${pct} of time is disk reads ${where}: ${diskReason(n)}`, n.node);
    const ranked = BLOCK_OPS.filter((op) => n.opMs[op] > 0).sort((a, b) => n.opMs[b] - n.opMs[a]);
    const mostly = ranked
      .slice(0, 2)
      .map((op) => `${OP_LABELS[op]} ${percent(share(n.opMs[op]))}`)
      .join(", ");
    add("compute", n.computeMs, (pct) => `${pct} of time is compute ${where} (${layerCount(n.layers.length)}), mostly ${mostly}`, n.node);
    add("queue", n.queueMs, (pct) => `${pct} of time is queueing ${where}: batches waited ${formatMs(n.queueMs / Math.max(1, n.hops))} on average before their first layer`, n.node);
  }
  if (s.transfers > 0) {
    add(
      "network",
      s.networkMs,
      (pct) =>
        `${pct} of time is the network: ${s.transfers} transfers, ${formatMs(s.networkMs / s.transfers)} and ${formatBytes(Math.round(s.wireBytes / s.transfers))} each on average`,
    );
  }
  const codecMs = s.nodes.reduce((sum, n) => sum + n.codecMs, 0);
  add("codec", codecMs, (pct) => `${pct} of time is encoding and decoding activations for the wire (--wire)`);
  add("outputHead", s.root.outputHead, (pct) => `${pct} of time is the output head on the root (final norm and vocabulary projection, once per pass)`);
  add("embedding", s.root.embedding, (pct) => `${pct} of time is the token embedding on the root`);
  add("sampling", s.root.sampling, (pct) => `${pct} of time is sampling on the root`);
  const imbalance = findImbalance(s.nodes.filter((n) => n.node >= 0 && n.layerRuns > 0));
  if (imbalance) add("imbalance", imbalance.ms, (pct) => `${pct} of time is imbalance: ${imbalance.text}`, imbalance.node);

  return found.sort((a, b) => b.ms - a.ms);
}

function nodeWhere(n: NodeSummary, distributed: boolean): string {
  return n.node < 0 && !distributed ? "on this machine" : `on ${n.name}`;
}

function layerCount(nLayers: number): string {
  return nLayers === 1 ? "1 layer" : `${nLayers} layers`;
}

function diskReason(n: NodeSummary): string {
  const loads = `${n.misses} of ${n.layerRuns} layer runs read from disk, ${formatBytes(n.bytesRead)}`;
  const nLayers = n.layers.length;
  const resident = n.facts?.layersResident;
  if (resident === undefined) return loads;
  if (resident >= nLayers) return `its budget holds all ${nLayers} layers, so these are first loads (${loads})`;
  return `its budget holds ${resident} of ${nLayers} layers (${loads})`;
}

/**
 * Two workers whose time per layer run differs by IMBALANCE_RATIO or more. Its cost is what
 * the slow node would save running its layers at the fast node's pace.
 */
function findImbalance(workers: readonly NodeSummary[]): { ms: number; node: number; text: string } | undefined {
  if (workers.length < 2) return undefined;
  const perLayer = (n: NodeSummary) => n.busyMs / n.layerRuns;
  const sorted = [...workers].sort((a, b) => perLayer(b) - perLayer(a));
  const slow = sorted[0];
  const fast = sorted[sorted.length - 1];
  if (perLayer(fast) <= 0 || perLayer(slow) / perLayer(fast) < IMBALANCE_RATIO) return undefined;
  const ratio = perLayer(slow) / perLayer(fast);
  const cause =
    slow.ioWaitMs > slow.computeMs
      ? `mostly disk waits there; more --max-memory on ${slow.name} or fewer layers on it would even it out`
      : `mostly compute there (a slower CPU or fewer threads); fewer layers on ${slow.name} would even it out`;
  return {
    ms: slow.layerRuns * (perLayer(slow) - perLayer(fast)),
    node: slow.node,
    text: `${slow.name} takes ${ratio.toFixed(1)}× as long per layer as ${fast.name} (${formatMs(perLayer(slow))} vs ${formatMs(perLayer(fast))}), ${cause}`,
  };
}
