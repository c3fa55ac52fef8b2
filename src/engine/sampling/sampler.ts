/**
 * Token sampler with llama.cpp's default chain (common/sampling.cpp, default order):
 *
 *   penalties → (dry: not supported) → top-k → (typical: off) → top-p → min-p
 *   → (xtc: off) → temperature → dist
 *
 * temperature 0 is greedy: the argmax of the penalized logits, lowest id on ties.
 * The filters before temperature see unscaled logits, as in llama.cpp.
 */
import { CandidateList } from "./candidates.js";
import { SamplerInputError } from "./errors.js";
import {
  applyMinP,
  applyPenalties,
  applyTemperature,
  applyTopK,
  applyTopP,
  sampleDistribution,
  type PenaltySettings,
} from "./filters.js";
import { resolveSamplerOptions, type SamplerOptions } from "./options.js";
import type { Rng } from "./rng.js";

export type { SamplerOptions } from "./options.js";

const f32 = Math.fround;

export class Sampler {
  /** the resolved options (defaults filled in, validated) */
  readonly options: Readonly<SamplerOptions>;
  private readonly rng: Rng;
  /** options as the f32 values llama.cpp stores */
  private readonly penalties: PenaltySettings;
  private readonly temperature: number;
  private readonly topP: number;
  private readonly minP: number;
  /** scratch for the current vocabulary size; replaced only when the size changes */
  private candidates: CandidateList | undefined;
  /** i32 [nVocab] occurrence counts for the penalties step, zero between calls */
  private penaltyCounts = new Int32Array(0);

  /**
   * @param options missing fields take llama.cpp's defaults (`DEFAULT_SAMPLER_OPTIONS`)
   * @param rng the only source of randomness; one `nextFloat()` per non-greedy draw
   * @throws SamplerOptionsError when an option is out of range
   */
  constructor(options: Partial<SamplerOptions>, rng: Rng) {
    this.options = resolveSamplerOptions(options);
    this.rng = rng;
    this.penalties = {
      repeatPenalty: f32(this.options.repeatPenalty),
      repeatLastN: this.options.repeatLastN,
      frequencyPenalty: f32(this.options.frequencyPenalty),
      presencePenalty: f32(this.options.presencePenalty),
    };
    this.temperature = f32(this.options.temperature);
    this.topP = f32(this.options.topP);
    this.minP = f32(this.options.minP);
  }

  /**
   * Picks the next token.
   * @param logits f32 [nVocab] raw logits for the next position; never modified
   * @param history token ids so far (prompt and generated), oldest first; the penalties
   *   look at the last `repeatLastN` of them
   * @returns a token id in [0, nVocab)
   * @throws SamplerInputError when `logits` is empty
   */
  sample(logits: Float32Array, history: readonly number[]): number {
    const list = this.scratchFor(logits.length);
    list.load(logits);
    applyPenalties(list.logits, history, this.penalties, this.penaltyCounts);

    if (this.temperature <= 0) {
      return list.argmaxToken();
    }
    applyTopK(list, this.options.topK);
    applyTopP(list, this.topP);
    applyMinP(list, this.minP);
    applyTemperature(list, this.temperature);
    return sampleDistribution(list, this.rng);
  }

  private scratchFor(nVocab: number): CandidateList {
    if (nVocab === 0) {
      throw new SamplerInputError("cannot sample from an empty logits vector");
    }
    if (this.candidates?.nVocab !== nVocab) {
      this.candidates = new CandidateList(nVocab);
      this.penaltyCounts = new Int32Array(nVocab);
    }
    return this.candidates;
  }
}
