/**
 * Timing records of profiled runs (`layerstream profile`): what one node did for one batch (a
 * "hop": one ACTIVATIONS message, or the local runner's one call), what the root did for one
 * forward pass, and what each node is. Workers keep their hops while profiling is enabled and
 * hand them to the root in STATS replies, so profiling works across machines; with profiling
 * off nothing is recorded.
 *
 * Times are milliseconds. Offsets (`…AtMs`) are relative to the moment the node received the
 * batch, on the node's own clock, so no clock synchronisation between machines is needed.
 */

/** Operations a block's compute time is split into. */
export const BLOCK_OPS = ["attnProjections", "attention", "ffn", "normsRope"] as const;
export type BlockOp = (typeof BLOCK_OPS)[number];

/** One layer applied to one batch. */
export interface LayerTiming {
  readonly layer: number;
  /** weights were resident when the layer was needed (no disk read waited for) */
  readonly cacheHit: boolean;
  /** bytes read from disk to bring this layer in (0 on a hit) */
  readonly bytesRead: number;
  /** getting the layer's weights: waiting for its read, and starting reads (buffers, read-ahead) */
  readonly ioWaitMs: number;
  /** compute time per operation */
  readonly opMs: Readonly<Record<BlockOp, number>>;
  /** when the layer started (waiting for weights included) and ended, from the batch's receipt */
  readonly startAtMs: number;
  readonly endAtMs: number;
}

/** What one node did with one batch. */
export interface HopTiming {
  /** worker index in the pipeline; −1 for the root's own (local) runner */
  readonly node: number;
  readonly requestId: number;
  readonly sequenceId: number;
  /** position of the batch's first token */
  readonly position: number;
  readonly nTokens: number;
  /** from receipt to the start of the first layer (waiting behind other work) */
  readonly queueMs: number;
  /** decoding the incoming activations / encoding the outgoing ones */
  readonly decodeMs: number;
  readonly encodeMs: number;
  /** header + payload bytes this node sent onward for this batch */
  readonly bytesSent: number;
  readonly layers: readonly LayerTiming[];
  /** from receipt to the hand-off of the outgoing message to the socket */
  readonly totalMs: number;
}

/** performance.now() stamps of one forward pass at the root. */
export interface PassStamps {
  readonly sequenceId: number;
  /** position of the pass's first token */
  readonly position: number;
  readonly nTokens: number;
  readonly startMs: number;
  /** embeddings done, layers start */
  readonly embeddedMs: number;
  /** the runner returned */
  readonly layersDoneMs: number;
  /** logits done (the last chunk of an evaluate), else = layersDoneMs */
  readonly endMs: number;
}

/** A node's machine (systeminformation), as profile reports show it. */
export interface MachineFacts {
  readonly hostname: string;
  readonly cpu: string;
  readonly physicalCores: number;
  readonly logicalCores: number;
  readonly memoryBytes: number;
  readonly availableMemoryBytes: number;
  /** e.g. "NVMe 512 GB (ext4)"; "" when unknown */
  readonly disk: string;
  readonly os: string;
}

/** What a node reports about itself: its machine and its share of the model. */
export interface NodeFacts extends MachineFacts {
  /** the layer cache's byte budget on this node */
  readonly budgetBytes: number;
  /** layers assigned to this node and how many of them its budget holds at once */
  readonly layers: readonly number[];
  readonly layersResident: number;
  readonly kernels: string;
}

/** A layer runner's counters since it was made (a remote runner's: its workers', summed). */
export interface RunnerStats {
  /** time inside layers, not waiting for weights */
  readonly computeSeconds: number;
  /** layers run (one per layer per call, whatever the number of sequences) */
  readonly layerRuns: number;
  /** a layer was resident when needed (every run is a hit when all layers stay resident) */
  readonly cacheHits: number;
  /** a layer read from disk, on demand or ahead of use: bytesRead is the sum of their sizes */
  readonly cacheMisses: number;
  readonly bytesRead: number;
  /** compute waiting for reads */
  readonly ioWaitSeconds: number;
  /** time at least one read was in flight */
  readonly readBusySeconds: number;
}
