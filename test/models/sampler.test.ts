/**
 * Seeded sampling against llama.cpp (node-llama-cpp): at each step we read llama.cpp's raw
 * logits (a greedy request leaves them untouched), re-evaluate the same position with
 * sampling options and a seed, and check our Sampler, given the same logits and seed,
 * picks the same token. node-llama-cpp builds a fresh sampler chain per request, so each
 * step is the first draw of mt19937(seed).
 */
import path from "node:path";
import type { LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../src/engine/sampling/rng.js";
import { Sampler, type SamplerOptions } from "../../src/engine/sampling/sampler.js";
import { getReferenceLlama } from "../helpers/llamaCpp.js";
import { modelFile } from "../helpers/paths.js";

const MODEL_PATH = modelFile("stories260K.gguf");
const N_STEPS = 25;

let model: LlamaModel;
let context: LlamaContext;
let sequence: LlamaContextSequence;
let nVocab: number;

beforeAll(async () => {
  const llama = await getReferenceLlama();
  model = await llama.loadModel({ modelPath: MODEL_PATH });
  // one thread: with two, each request waits on a busy second core when other tests run
  context = await model.createContext({ contextSize: 256, threads: 1 });
  sequence = context.getSequence();
  nVocab = (model.fileInfo.metadata as { tokenizer: { ggml: { tokens: readonly string[] } } }).tokenizer.ggml.tokens.length;
});

afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
});

/** llama.cpp's raw logits after `token`, f32 [nVocab] */
async function rawLogitsAfter(token: number): Promise<Float32Array> {
  const [result] = await sequence.controlledEvaluate([[token as never, { generateNext: { logits: true } }]]);
  const logits = new Float32Array(nVocab).fill(Number.NEGATIVE_INFINITY);
  for (const [id, value] of result!.next.logits!) {
    logits[id as number] = value;
  }
  return logits;
}

async function dropLastPosition(): Promise<void> {
  const end = sequence.nextTokenIndex;
  await sequence.eraseContextTokenRanges([{ start: end - 1, end }]);
}

interface Scenario {
  name: string;
  options: Partial<SamplerOptions>;
  /** repeat penalty settings for node-llama-cpp, matching `options` */
  repeatPenalty?: { penalty: number; frequencyPenalty: number; presencePenalty: number };
}

const scenarios: Scenario[] = [
  { name: "llama.cpp defaults", options: { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05 } },
  { name: "top-p over the whole sorted vocabulary", options: { temperature: 1.0, topK: 512, topP: 0.9, minP: 0 } },
  { name: "top-k + min-p, hot", options: { temperature: 1.5, topK: 12, topP: 1, minP: 0.1 } },
  {
    name: "repeat, frequency and presence penalties",
    options: { temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.3, repeatLastN: 64, frequencyPenalty: 0.2, presencePenalty: 0.1 },
    repeatPenalty: { penalty: 1.3, frequencyPenalty: 0.2, presencePenalty: 0.1 },
  },
  { name: "greedy", options: { temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.5 }, repeatPenalty: { penalty: 1.5, frequencyPenalty: 0, presencePenalty: 0 } },
];

describe("Sampler against llama.cpp's sampler chain", () => {
  for (const [index, scenario] of scenarios.entries()) {
    it(`picks the same tokens with the same seeds: ${scenario.name}`, async () => {
      await sequence.clearHistory();
      const history = model.tokenize("Once upon a time, there was a little") as number[];
      await sequence.controlledEvaluate(history.slice(0, -1) as never[]);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let step = 0; step < N_STEPS; step++) {
        const last = history[history.length - 1];
        const logits = await rawLogitsAfter(last);
        await dropLastPosition();
        const seed = 7919 * (index + 1) + step;
        const { temperature, topK, topP, minP } = scenario.options;
        const [result] = await sequence.controlledEvaluate([
          [
            last as never,
            {
              generateNext: {
                token: true,
                options: {
                  temperature,
                  topK,
                  topP,
                  minP,
                  seed,
                  repeatPenalty: scenario.repeatPenalty && { ...scenario.repeatPenalty, punishTokens: history.slice(-64) as never[], maxPunishTokens: 64 },
                },
              },
            },
          ],
        ]);
        const reference = result!.next.token as number;
        theirs.push(reference);
        ours.push(new Sampler(scenario.options, createRng(seed)).sample(logits, history));
        history.push(reference);
      }
      expect(ours).toEqual(theirs);
      if (scenario.options.temperature !== 0) {
        expect(new Set(theirs).size).toBeGreaterThan(5); // a real random walk, not a greedy one
      }
    });
  }
});
