/** llama-perplexity's arithmetic: the nll of one position, the totals, and its output lines. */
import { describe, expect, it } from "vitest";
import { formatFinalEstimate, formatChunkPerplexity, negativeLogLikelihood, NllTotals } from "../../src/api/perplexityMath.js";

describe("perplexity arithmetic", () => {
  it("the nll is −log softmax(logits)[target], unchanged by a shift of every logit", () => {
    const logits = Float32Array.from([1, 2, 3, 4]);
    expect(negativeLogLikelihood(logits, 2)).toBeCloseTo(-Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4))), 6);
    expect(negativeLogLikelihood(logits.map((v) => v + 100), 2)).toBeCloseTo(negativeLogLikelihood(logits, 2), 5);
    expect(negativeLogLikelihood(new Float32Array(8), 5)).toBeCloseTo(Math.log(8), 6);
  });

  it("perplexity is exp(mean nll); its standard error is sd(nll)/√(n−1) × ppl", () => {
    const totals = new NllTotals();
    const values = [1, 2, 3, 4];
    for (const v of values) totals.add(v);
    const mean = 2.5;
    const variance = values.reduce((s, v) => s + v * v, 0) / 4 - mean * mean;
    expect(totals.perplexity).toBeCloseTo(Math.exp(mean), 12);
    expect(totals.standardError).toBeCloseTo(Math.sqrt(variance / 3) * Math.exp(mean), 12);
    const flat = new NllTotals();
    flat.add(2);
    flat.add(2);
    expect(flat.standardError).toBe(0);
  });

  it("prints llama-perplexity's lines", () => {
    expect(formatChunkPerplexity(1, 12.34567) + formatChunkPerplexity(2, 11)).toBe("[1]12.3457,[2]11.0000,");
    expect(formatFinalEstimate(12.34567, 0.123456)).toBe("Final estimate: PPL = 12.3457 +/- 0.12346");
  });
});
