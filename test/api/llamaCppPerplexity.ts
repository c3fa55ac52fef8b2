/**
 * llama-perplexity's measurement driven through node-llama-cpp (the reference engine of the
 * conformance tests): the same chunks of the same token ids, each from an empty KV cache with
 * its first token replaced by BOS, and the logits of every scored position read back — the
 * nll and the totals computed as tools/perplexity/perplexity.cpp computes them, flash attention on
 * (llama-perplexity's default on CPUs, and loadModel's).
 */
import { getReferenceLlama } from "../helpers/llamaCpp.js";

export interface ReferencePerplexity {
  perplexity: number;
  standardError: number;
  chunkPerplexities: number[];
}

/** llama.cpp's perplexity of `tokens` (BOS already in front) with chunks of `contextSize` tokens. */
export async function referencePerplexity(modelPath: string, tokens: readonly number[], contextSize: number, bosId: number | undefined, maxChunks = Infinity): Promise<ReferencePerplexity> {
  const llama = await getReferenceLlama();
  const model = await llama.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize, flashAttention: true, threads: 1, batchSize: contextSize });
    try {
      const sequence = context.getSequence();
      const chunks = Math.min(maxChunks, Math.floor(tokens.length / contextSize));
      const first = Math.floor(contextSize / 2);
      let sum = 0;
      let sumOfSquares = 0;
      let count = 0;
      const chunkPerplexities: number[] = [];
      for (let c = 0; c < chunks; c++) {
        const chunk = tokens.slice(c * contextSize, (c + 1) * contextSize);
        if (bosId !== undefined) chunk[0] = bosId;
        await sequence.clearHistory();
        const input = chunk.map((token, i) => (i >= first && i < contextSize - 1 ? [token, { generateNext: { logits: true } }] : token));
        const results = await sequence.controlledEvaluate(input as never);
        for (let i = first; i < contextSize - 1; i++) {
          const logits = results[i]?.next?.logits as Map<number, number> | undefined;
          if (!logits) throw new Error(`llama.cpp returned no logits at position ${i}`);
          const nll = referenceNll(logits, chunk[i + 1]);
          sum += nll;
          sumOfSquares += nll * nll;
          count++;
        }
        chunkPerplexities.push(Math.exp(sum / count));
      }
      const mean = sum / count;
      const variance = sumOfSquares / count - mean * mean;
      return { perplexity: Math.exp(mean), standardError: Math.sqrt(variance / (count - 1)) * Math.exp(mean), chunkPerplexities };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** perplexity.cpp's log_softmax: max in f32, Σ expf(logit − max) in f64. */
function referenceNll(logits: Map<number, number>, target: number): number {
  let max = -Infinity;
  for (const value of logits.values()) max = Math.max(max, value);
  let sumExp = 0;
  for (const value of logits.values()) sumExp += Math.fround(Math.exp(Math.fround(value - max)));
  const logit = logits.get(target);
  if (logit === undefined) throw new Error(`llama.cpp returned no logit for token ${target}`);
  return -(Math.fround(logit - max) - Math.log(sumExp));
}
