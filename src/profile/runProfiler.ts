/**
 * Collects a profiled generation (`npm run profile`, scripts/profile): root-side stamps of every
 * forward pass (embedding, layers, output head, sampling), the layer timings of the local runner
 * or the workers' hop records (taken over STATS at the end), and every node's machine facts;
 * `finish` assembles the ProfileRun document.
 */
import { statSync } from "node:fs";
import type { Session, PassStamps } from "../engine/session.js";
import type { TokenSampler } from "../engine/generate.js";
import { LocalLayerRunner } from "../engine/model/localLayerRunner.js";
import type { LayerRunner } from "../engine/model/layerRunner.js";
import type { Model } from "../engine/model/model.js";
import type { HopTiming, WorkerFacts } from "../protocol/profileRecords.js";
import { RemoteLayerRunner } from "../root/cluster/remoteLayerRunner.js";
import { machineFacts } from "../worker/machineFacts.js";
import type { NodeFacts, PassProfile, ProfileRun } from "./profileRun.js";

interface PassRecord {
  readonly stamps: PassStamps;
  readonly position: number;
  samplingMs: number;
  /** local runs: the one hop */
  readonly localHop?: HopTiming;
  /** cluster runs: which request, and what the root sent for it */
  readonly requestId?: number;
  readonly rootBytesSent: number;
}

/** What the root knows about its own part, for the report's facts. */
export interface RootSetup {
  readonly budgetBytes: number;
  /** layers the root runs itself (none with workers) and how many its budget holds */
  readonly layers: readonly number[];
  readonly layersResident: number;
  readonly kernels: string;
}

export interface RunTotals {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly bytesRead: number;
  readonly wireBytesSent: number;
  readonly wallSeconds: number;
}

export class RunProfiler {
  private readonly passes: PassRecord[] = [];
  /** the document, once finish() has run */
  result?: ProfileRun;
  private originMs = 0;

  constructor(private readonly argv: readonly string[]) {}

  /** Starts collecting on this session and runner (before the prompt is evaluated). */
  attach(session: Session, runner: LayerRunner): void {
    this.originMs = performance.now();
    if (runner instanceof LocalLayerRunner) runner.setProfiling(true);
    else if (runner instanceof RemoteLayerRunner) runner.profiling = true;
    let position = session.position;
    session.onPass = (stamps) => {
      const record: PassRecord =
        runner instanceof LocalLayerRunner
          ? {
              stamps,
              position,
              samplingMs: 0,
              rootBytesSent: 0,
              localHop: {
                node: -1,
                requestId: this.passes.length,
                sequenceId: session.sequenceId,
                position,
                nTokens: stamps.nTokens,
                queueMs: 0,
                decodeMs: 0,
                encodeMs: 0,
                bytesSent: 0,
                layers: runner.takeLayerTimings(stamps.embeddedMs),
                totalMs: stamps.layersDoneMs - stamps.embeddedMs,
              },
            }
          : { stamps, position, samplingMs: 0, requestId: (runner as RemoteLayerRunner).lastRun.requestId, rootBytesSent: (runner as RemoteLayerRunner).lastRun.bytesSent };
      this.passes.push(record);
      position += stamps.nTokens;
    };
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

  /** Assembles the document; with workers, takes their hop records and facts first. */
  async finish(model: Model, runner: LayerRunner, promptTokens: number, root: RootSetup, totals: RunTotals): Promise<ProfileRun> {
    let hops: HopTiming[] = [];
    let workers: { address: string; facts: WorkerFacts }[] = [];
    if (runner instanceof RemoteLayerRunner) ({ hops, workers } = await runner.takeProfile());
    const byRequest = new Map<number, HopTiming[]>();
    for (const hop of hops) byRequest.set(hop.requestId, [...(byRequest.get(hop.requestId) ?? []), hop]);

    let evaluated = 0;
    const passes: PassProfile[] = this.passes.map((record, index) => {
      const { stamps } = record;
      const passHops = record.localHop ? [record.localHop] : [...(byRequest.get(record.requestId!) ?? [])].sort((a, b) => (a.layers[0]?.layer ?? 0) - (b.layers[0]?.layer ?? 0));
      const layersMs = stamps.layersDoneMs - stamps.embeddedMs;
      const hopMs = passHops.reduce((n, h) => n + h.totalMs, 0);
      const phase = evaluated < promptTokens ? "prompt" : "decode";
      evaluated += stamps.nTokens;
      return {
        index,
        phase,
        nTokens: stamps.nTokens,
        startAtMs: stamps.startMs - this.originMs,
        wallMs: stamps.endMs - stamps.startMs + record.samplingMs,
        root: { embedding: stamps.embeddedMs - stamps.startMs, outputHead: stamps.endMs - stamps.layersDoneMs, sampling: record.samplingMs },
        hops: passHops,
        networkMs: record.localHop ? 0 : Math.max(0, layersMs - hopMs),
        wireBytes: record.rootBytesSent + passHops.reduce((n, h) => n + h.bytesSent, 0),
      };
    });

    const rootFacts = await machineFacts();
    const nodes: NodeFacts[] = [
      { node: -1, label: "root", ...rootFacts, ...root },
      ...workers.map(({ address, facts }, w) => ({ node: w, label: `worker ${w + 1} (${address})`, ...facts })),
    ];
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
