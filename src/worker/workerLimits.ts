/**
 * What a worker refuses to do for anyone, authenticated or not: frames, batches, contexts and
 * sequence counts beyond these limits are rejected with a typed error before they cost memory
 * or minutes of compute. The defaults are stated in `layerstream worker --help`.
 */
import { ProtocolError } from "../protocol/errors.js";

export interface WorkerLimits {
  /** largest message a peer may send (ZeroMQ maxMessageSize): bigger ones drop the connection */
  readonly maxFrameBytes: number;
  /** rows in one ACTIVATIONS batch, all sequences together */
  readonly maxBatchTokens: number;
  /** positions per sequence an ASSIGN may ask for */
  readonly maxContext: number;
  /** sequences (KV caches) one session may hold */
  readonly maxSequences: number;
  /** a sequence unused this long has its KV cache freed */
  readonly idleSequenceMs: number;
}

export const DEFAULT_WORKER_LIMITS: WorkerLimits = Object.freeze({
  maxFrameBytes: 256 * 2 ** 20,
  maxBatchTokens: 4096,
  maxContext: 131_072,
  maxSequences: 256,
  idleSequenceMs: 10 * 60_000,
});

export function checkBatchTokens(nRows: number, limits: WorkerLimits): void {
  if (nRows > limits.maxBatchTokens) throw new ProtocolError("BAD_VALUE", `a batch of ${nRows} rows is over this worker's limit of ${limits.maxBatchTokens} (--max-batch-tokens)`);
}

export function checkContext(contextSize: number, limits: WorkerLimits): void {
  if (contextSize > limits.maxContext) throw new ProtocolError("BAD_VALUE", `a context of ${contextSize} positions is over this worker's limit of ${limits.maxContext} (--max-context)`);
}

/** @param held sequences holding a KV cache now; @param arriving ids of the batch not among them */
export function checkSequences(held: number, arriving: number, limits: WorkerLimits): void {
  if (held + arriving > limits.maxSequences) throw new ProtocolError("BAD_VALUE", `${held + arriving} sequences would be over this worker's limit of ${limits.maxSequences} (--max-sequences)`);
}
