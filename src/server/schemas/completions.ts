/** POST /v1/completions (the legacy text endpoint): a prompt in, its continuation out. */
import { completionResponses, samplingProperties, type SamplingFields } from "./common.js";

export interface CompletionRequest extends SamplingFields {
  /** a string, a list holding one string, or token ids */
  prompt: string | string[] | number[];
  echo?: boolean | null;
}

export const completionSchema = {
  body: {
    type: "object",
    required: ["prompt"],
    properties: {
      ...samplingProperties,
      prompt: {
        anyOf: [
          { type: "string" },
          { type: "array", items: { type: "string" }, minItems: 1, maxItems: 1 },
          { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1 },
        ],
      },
      echo: { type: ["boolean", "null"], enum: [false, null] },
      logprobs: { type: "null" },
      best_of: { type: ["integer", "null"], minimum: 1, maximum: 1 },
      suffix: { type: "null" },
    },
  },
  response: completionResponses({ text: { type: "string" } }),
} as const;
