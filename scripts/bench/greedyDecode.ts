/** The in-process decode loop the benchmarks time: evaluate a prompt, then greedy tokens. */
import type { Session } from "../../src/engine/session.js";
import { argmax } from "../../src/engine/model/ops.js";

/**
 * Evaluates `prompt`, then `nTokens` greedy steps, timing only the steps.
 * @returns ms per step and the tokens chosen, in order
 */
export async function timeGreedyDecode(session: Session, prompt: readonly number[], nTokens: number): Promise<{ msPerToken: number; tokens: number[] }> {
  let logits = await session.evaluate(prompt);
  const tokens: number[] = [];
  const start = performance.now();
  for (let i = 0; i < nTokens; i++) {
    tokens.push(argmax(logits));
    logits = await session.evaluate([tokens.at(-1)!]);
  }
  return { msPerToken: (performance.now() - start) / nTokens, tokens };
}
