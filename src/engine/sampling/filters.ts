/**
 * The steps of llama.cpp's default sampler chain (src/llama-sampling.cpp), applied to a
 * `CandidateList`. Arithmetic is rounded to float32 where llama.cpp computes in float,
 * so that boundary decisions (which token survives top-p, which one is drawn) agree.
 */
import type { CandidateList } from "./candidates.js";
import type { Rng } from "./rng.js";

const f32 = Math.fround;

/** llama.cpp's top-p first tries this many best candidates before sorting them all */
const TOP_P_PARTIAL_COUNT = 256;
/** ... when there are more candidates than this */
const TOP_P_PARTIAL_THRESHOLD = 1024;
/** then (our addition, same result) 8 times as many, and so on, while that is at most 1/16 of them all */
const TOP_P_WIDEN_FACTOR = 8;
const TOP_P_MAX_PARTIAL_SHARE = 1 / 16;

/** f32 scalars of the penalties step */
export interface PenaltySettings {
  readonly repeatPenalty: number;
  /** 0 = off, -1 = the whole history */
  readonly repeatLastN: number;
  readonly frequencyPenalty: number;
  readonly presencePenalty: number;
}

/**
 * llama.cpp `penalties`: for each distinct token among the last `repeatLastN` of `history`,
 * occurring `count` times: logit <= 0 ? logit · repeat : logit / repeat, then
 * logit -= count · frequency + presence. Ids outside the vocabulary are ignored.
 * @param counts i32 [nVocab] all zero on entry and on return
 */
export function applyPenalties(
  logits: Float32Array,
  history: readonly number[],
  settings: PenaltySettings,
  counts: Int32Array,
): void {
  const { repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty } = settings;
  if (repeatLastN === 0 || (repeatPenalty === 1 && frequencyPenalty === 0 && presencePenalty === 0)) {
    return;
  }
  const nVocab = logits.length;
  const start = repeatLastN < 0 ? 0 : Math.max(0, history.length - repeatLastN);
  for (let i = start; i < history.length; i++) {
    const id = history[i];
    if (Number.isInteger(id) && id >= 0 && id < nVocab) {
      counts[id]++;
    }
  }
  for (let i = start; i < history.length; i++) {
    const id = history[i];
    if (!(Number.isInteger(id) && id >= 0 && id < nVocab) || counts[id] === 0) {
      continue; // out of range, or already penalized
    }
    const count = counts[id];
    counts[id] = 0;
    let logit = logits[id];
    logit = logit <= 0 ? f32(logit * repeatPenalty) : f32(logit / repeatPenalty);
    logits[id] = f32(logit - f32(f32(count * frequencyPenalty) + presencePenalty));
  }
}

/** llama.cpp `top-k`: keep the `k` most likely candidates, sorted; 0 = off. */
export function applyTopK(list: CandidateList, k: number): void {
  if (k > 0) {
    list.keepTop(k);
  }
}

/**
 * llama.cpp `top-p`: keep the smallest prefix of the sorted candidates whose softmax
 * probabilities sum to at least `p` (f32); p >= 1 = off. Leaves the list sorted.
 */
export function applyTopP(list: CandidateList, p: number): void {
  if (p >= 1 || list.size === 0) {
    return;
  }
  const { logits } = list;
  // softmax over the candidates in their current order, summed in f32 like llama.cpp
  const maxLogit = list.maxLogit();
  let sum = 0;
  for (let i = 0; i < list.size; i++) {
    sum = f32(sum + f32(Math.exp(f32(logits[list.ids[i]] - maxLogit))));
  }
  const probabilityOf = (id: number): number => f32(f32(Math.exp(f32(logits[id] - maxLogit))) / sum);

  if (!list.sorted && list.size > TOP_P_PARTIAL_THRESHOLD) {
    // usually the nucleus is among the best few hundred: avoid sorting the vocabulary,
    // widening the partial selection before falling back to a full sort
    for (let count = TOP_P_PARTIAL_COUNT; count <= list.size * TOP_P_MAX_PARTIAL_SHARE; count *= TOP_P_WIDEN_FACTOR) {
      list.selectTop(count);
      const nKept = nucleusLength(list.topIds, count, p, probabilityOf);
      if (nKept > 0) {
        list.ids.set(list.topIds.subarray(0, nKept));
        list.size = nKept;
        list.sorted = true;
        return;
      }
    }
  }
  if (!list.sorted) {
    list.sort();
  }
  const nKept = nucleusLength(list.ids, list.size, p, probabilityOf);
  list.size = nKept > 0 ? nKept : list.size;
}

/** Length of the shortest prefix of sortedIds[0..count) reaching cumulative probability p; 0 if none does. */
function nucleusLength(sortedIds: Int32Array, count: number, p: number, probabilityOf: (id: number) => number): number {
  let cumulative = 0;
  for (let i = 0; i < count; i++) {
    cumulative = f32(cumulative + probabilityOf(sortedIds[i]));
    if (cumulative >= p) {
      return i + 1;
    }
  }
  return 0;
}

/**
 * llama.cpp `min-p`: keep candidates with probability >= p · max probability, i.e.
 * logit >= maxLogit + log(p); 0 = off. Keeps the candidate order (sorted or not).
 */
export function applyMinP(list: CandidateList, p: number): void {
  if (p <= 0 || list.size === 0) {
    return;
  }
  const { logits, ids } = list;
  const minLogit = f32(list.maxLogit() + f32(Math.log(p)));
  if (list.sorted) {
    let nKept = 1; // the first candidate always passes
    while (nKept < list.size && logits[ids[nKept]] >= minLogit) {
      nKept++;
    }
    list.size = nKept;
    return;
  }
  let nKept = 0;
  for (let i = 0; i < list.size; i++) {
    const id = ids[i];
    if (logits[id] >= minLogit) {
      ids[nKept++] = id;
    }
  }
  if (nKept > 0) {
    list.size = nKept;
  }
}

/** llama.cpp `temp` (temperature > 0): logit /= temperature, in f32, for every candidate. */
export function applyTemperature(list: CandidateList, temperature: number): void {
  const { logits, ids } = list;
  for (let i = 0; i < list.size; i++) {
    const id = ids[i];
    logits[id] = f32(logits[id] / temperature);
  }
}

/**
 * llama.cpp `dist`: softmax over the candidates and draw one with a single `rng.nextFloat()`,
 * walking the candidates in their current order. A single candidate is returned without a draw.
 * @returns the drawn token id
 */
export function sampleDistribution(list: CandidateList, rng: Rng): number {
  const { logits, ids, probs, size } = list;
  if (size === 1) {
    return ids[0];
  }
  const maxLogit = list.maxLogit();
  let sum = 0; // f64, as llama.cpp
  for (let i = 0; i < size; i++) {
    const weight = f32(Math.exp(f32(logits[ids[i]] - maxLogit)));
    probs[i] = weight;
    sum += weight;
  }
  const target = sum * rng.nextFloat();
  let running = 0;
  for (let i = 0; i < size; i++) {
    running += probs[i];
    if (running >= target) {
      return ids[i];
    }
  }
  return ids[size - 1];
}
