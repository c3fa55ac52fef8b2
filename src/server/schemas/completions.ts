/** POST /v1/completions (the legacy text endpoint): a prompt in, its continuation out. */
import { errorResponses, samplingProperties, timingsSchema, usageSchema, type SamplingFields } from "./common.js";

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
  response: {
    200: {
      type: "object",
      properties: {
        id: { type: "string" },
        object: { type: "string" },
        created: { type: "integer" },
        model: { type: "string" },
        system_fingerprint: { type: "string" },
        choices: {
          type: "array",
          items: {
            type: "object",
            properties: {
              index: { type: "integer" },
              text: { type: "string" },
              logprobs: { type: "null" },
              finish_reason: { type: "string" },
            },
          },
        },
        usage: usageSchema,
        timings: timingsSchema,
      },
    },
    ...errorResponses,
  },
} as const;
