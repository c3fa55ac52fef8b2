/**
 * The arithmetic of llama-perplexity (llama.cpp's tools/perplexity): each scored position's
 * negative log-likelihood from its logits, the running perplexity after each chunk, and the
 * final estimate with its standard error. Kept apart from the forward passes so that it can be
 * checked on its own.
 */

/**
 * −log p(target) under softmax(logits), computed as llama.cpp does: the maximum and each
 * `logit − max` in f32, their exponentials summed in f64.
 * @param logits f32 [nVocab]
 */
export function negativeLogLikelihood(logits: Float32Array, target: number): number {
  let maxLogit = logits[0];
  for (let i = 1; i < logits.length; i++) if (logits[i] > maxLogit) maxLogit = logits[i];
  let sumExp = 0;
  for (let i = 0; i < logits.length; i++) sumExp += Math.fround(Math.exp(Math.fround(logits[i] - maxLogit)));
  return -(Math.fround(logits[target] - maxLogit) - Math.log(sumExp));
}

/** Sums over the scored positions so far: Σ nll, Σ nll², and how many. */
export class NllTotals {
  sum = 0;
  sumOfSquares = 0;
  count = 0;

  add(nll: number): void {
    this.sum += nll;
    this.sumOfSquares += nll * nll;
    this.count++;
  }

  /** exp(mean nll): the perplexity over every position scored so far (NaN before any). */
  get perplexity(): number {
    return Math.exp(this.sum / this.count);
  }

  /**
   * The standard error of the perplexity, as llama-perplexity prints it after `+/-`: the
   * standard deviation of the nll over the positions, divided by √(count − 1), times the
   * perplexity. 0 when there is no spread (or fewer than two positions).
   */
  get standardError(): number {
    const mean = this.sum / this.count;
    const variance = this.sumOfSquares / this.count - mean * mean;
    if (!(variance > 0) || this.count < 2) return 0;
    return Math.sqrt(variance / (this.count - 1)) * this.perplexity;
  }
}

/** One entry of llama-perplexity's line of running estimates: `[3]12.3456,` after chunk 3 (1-based). */
export function formatChunkPerplexity(chunk: number, perplexity: number): string {
  return `[${chunk}]${perplexity.toFixed(4)},`;
}

/** llama-perplexity's last line: `Final estimate: PPL = 12.3456 +/- 0.12345`. */
export function formatFinalEstimate(perplexity: number, standardError: number): string {
  return `Final estimate: PPL = ${perplexity.toFixed(4)} +/- ${standardError.toFixed(5)}`;
}
