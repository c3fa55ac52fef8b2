/**
 * Collects a profiled generation (`layerstream profile`). It is the run's Recorder: the Session
 * reports every forward pass, the local runner every call's layer timings, the remote runner
 * which request each pass was; after the run, `finish` has the runner hand over what the
 * workers timed (their hop records and machine facts) and assembles the ProfileRun document.
 * It never asks which kind of runner it is watching.
 */
import { statSync } from "node:fs";
import type { TokenSampler } from "../engine/generate.js";
import type { LayerRunner } from "../engine/model/layerRunner.js";
import type { Model } from "../engine/model/model.js";
import type { HopTiming, NodeFacts, PassStamps } from "../telemetry/records.js";
import type { LabelledNodeFacts, Recorder } from "../telemetry/recorder.js";
import { machineFacts } from "../telemetry/machineFacts.js";
import type { PassProfile, ProfileRun } from "./profileRun.js";

interface PassRecord {
  readonly stamps: PassStamps;
  samplingMs: number;
  /** the local runner's call for this pass, when this process ran the layers */
  readonly localHop?: HopTiming;
  /** which request carried the pass into the pipeline, and what the root sent for it */
  readonly requestId?: number;
  readonly rootBytesSent: number;
}

/** What the root holds itself, for the report's facts (the layers it runs: none with workers). */
export type RootSetup = Omit<NodeFacts, keyof Awaited<ReturnType<typeof machineFacts>>>;

export interface RunTotals {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly bytesRead: number;
  readonly wireBytesSent: number;
  readonly wallSeconds: number;
}

export class RunProfiler implements Recorder {
  readonly enabled = true;
  private readonly passes: PassRecord[] = [];
  private current: { localHop?: HopTiming; requestId?: number; rootBytesSent: number } = { rootBytesSent: 0 };
  private readonly remoteHops: HopTiming[] = [];
  private readonly workers: LabelledNodeFacts[] = [];
  private readonly originMs = performance.now();
  /** the document, once finish() has run */
  result?: ProfileRun;

  constructor(private readonly argv: readonly string[]) {}

  hop(hop: HopTiming): void {
    if (hop.node === -1) this.current.localHop = hop;
    else this.remoteHops.push(hop);
  }

  sent(requestId: number, nBytes: number): void {
    this.current.requestId = requestId;
    this.current.rootBytesSent += nBytes;
  }

  pass(stamps: PassStamps): void {
    const { localHop, requestId, rootBytesSent } = this.current;
    const hop = localHop && { ...localHop, requestId: this.passes.length, sequenceId: stamps.sequenceId, position: stamps.position };
    this.passes.push({ stamps, samplingMs: 0, localHop: hop, requestId, rootBytesSent });
    this.current = { rootBytesSent: 0 };
  }

  node(facts: LabelledNodeFacts): void {
    this.workers.push(facts);
  }

  /** The sampler, timed: each draw's time goes to the pass that produced the logits. */
  wrapSampler(sampler: TokenSampler): TokenSampler {
    return {
      sample: (logits, history) => {
        const start = performance.now();
        const token = sampler.sample(logits, history);
        const last = this.passes.at(-1);
        if (last) last.samplingMs += performance.now() - start;
        return token;
      },
    };
  }

  /** Assembles the document; first takes what the runner's other nodes recorded. */
  async finish(model: Model, runner: LayerRunner, promptTokens: number, root: RootSetup, totals: RunTotals): Promise<ProfileRun> {
    await runner.collectTelemetry(this);
    const byRequest = new Map<number, HopTiming[]>();
    for (const hop of this.remoteHops) byRequest.set(hop.requestId, [...(byRequest.get(hop.requestId) ?? []), hop]);
    let evaluated = 0;
    const passes = this.passes.map((record, index) => {
      const phase = evaluated < promptTokens ? "prompt" : "decode";
      evaluated += record.stamps.nTokens;
      return passProfile(record, index, phase, byRequest, this.originMs);
    });
    const nodes = [{ node: -1, label: "root", ...(await machineFacts()), ...root }, ...this.workers];
    this.result = {
      version: 1,
      argv: [...this.argv],
      model: { path: model.path, fileBytes: statSync(model.path).size, nLayer: model.hparams.nLayer, layerBytes: model.layers.map((l) => l.nBytes) },
      nodes,
      passes,
      reported: totals,
    };
    return this.result;
  }
}

function passProfile(record: PassRecord, index: number, phase: PassProfile["phase"], byRequest: ReadonlyMap<number, HopTiming[]>, originMs: number): PassProfile {
  const { stamps } = record;
  const remote = record.requestId === undefined ? [] : [...(byRequest.get(record.requestId) ?? [])].sort((a, b) => (a.layers[0]?.layer ?? 0) - (b.layers[0]?.layer ?? 0));
  const hops = record.localHop ? [record.localHop] : remote;
  const layersMs = stamps.layersDoneMs - stamps.embeddedMs;
  const hopMs = hops.reduce((n, h) => n + h.totalMs, 0);
  return {
    index,
    phase,
    nTokens: stamps.nTokens,
    startAtMs: stamps.startMs - originMs,
    wallMs: stamps.endMs - stamps.startMs + record.samplingMs,
    root: { embedding: stamps.embeddedMs - stamps.startMs, outputHead: stamps.endMs - stamps.layersDoneMs, sampling: record.samplingMs },
    hops,
    networkMs: record.localHop ? 0 : Math.max(0, layersMs - hopMs),
    wireBytes: record.rootBytesSent + hops.reduce((n, h) => n + h.bytesSent, 0),
  };
}
