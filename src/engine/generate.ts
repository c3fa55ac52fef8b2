/**
 * The generation loop for one sequence alone: the prompt, then one token at a time, through
 * its session. (The API's scheduler runs many Generations through shared passes instead.)
 */
import type { Session } from "./session.js";
import { Generation, type GeneratedPiece, type GenerationOptions, type GenerationTimings } from "./generation.js";

export { Generation, type GeneratedPiece, type GenerationTimings, type StopReason, type TokenSampler } from "./generation.js";

export interface GenerateOptions extends GenerationOptions {
  /** checked before every forward pass: generation then ends with stopReason "aborted" */
  readonly signal?: AbortSignal;
  /** prompt evaluation progress, after every forward pass of the prompt */
  readonly onPromptProgress?: (tokensDone: number, tokensTotal: number) => void;
}

/**
 * Evaluates the prompt (in passes of up to the session's batch size), then samples and
 * evaluates one token at a time, yielding text as soon as it forms complete characters and
 * cannot be the start of a stop string. Returns the timings.
 */
export async function* generate(session: Session, promptTokens: readonly number[], options: GenerateOptions): AsyncGenerator<GeneratedPiece, GenerationTimings> {
  const generation = new Generation(session, promptTokens, options);
  let promptDone = 0;
  while (!generation.done) {
    // A local forward pass never waits for I/O, so without this the loop would never let the
    // event loop run: no signal handler (Ctrl-C), no closed-pipe error, no other caller's timer.
    await yieldToEventLoop();
    if (options.signal?.aborted) {
      generation.abort();
      break;
    }
    const { tokens, wantLogits } = generation.nextInput();
    const reading = generation.readingPrompt;
    const logits = await session.step(tokens, wantLogits);
    if (reading) options.onPromptProgress?.((promptDone += tokens.length), promptTokens.length);
    const piece = generation.accept(logits);
    if (piece) yield piece;
  }
  const tail = generation.tail();
  if (tail) yield { token: -1, text: tail };
  return generation.timings();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
