/**
 * The one interface through which layers run: "run layers [from, to) of this sequence on
 * these activations". The single-process engine implements it locally; the streaming cache
 * and the cluster implement it again (remote workers), and the root never knows which.
 */

export interface LayerBatch {
  /** which sequence's KV cache the batch extends */
  readonly sequenceId: number;
  /** position of the first token of the batch */
  readonly position: number;
  readonly nTokens: number;
  /** f32 [nTokens, nEmbd]: hidden states entering layer `layerFrom` */
  readonly hidden: Float32Array;
}

export interface LayerRunner extends AsyncDisposable {
  /**
   * Runs layers [layerFrom, layerTo) and returns the hidden states leaving layer layerTo − 1,
   * f32 [nTokens, nEmbd]. When layerTo is the model's last layer only the last row is
   * complete: like llama.cpp, the last layer's feed-forward runs on the row that is output.
   */
  run(batch: LayerBatch, layerFrom: number, layerTo: number): Promise<Float32Array>;
  /**
   * Runs several sequences' batches through layers [layerFrom, layerTo), each layer applied
   * to every batch before the next layer, so one load of a streamed layer serves them all.
   */
  runMany(batches: readonly LayerBatch[], layerFrom: number, layerTo: number): Promise<Float32Array[]>;
  /** Forgets a sequence's cached keys and values from `position` on (0: the whole sequence). */
  truncateSequence(sequenceId: number, position: number): Promise<void>;
  /** A short description for the run summary, e.g. "local (1 thread, TypeScript kernels)". */
  describe(): string;
}
