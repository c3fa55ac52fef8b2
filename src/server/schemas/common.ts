/**
 * JSON schemas shared by the OpenAI routes: the sampling fields both completion endpoints take,
 * usage, and the error body. Fastify validates requests against them (a mismatch is a 400 in
 * the OpenAI shape) and serializes responses with them. Unknown request fields are ignored, as
 * OpenAI-compatible servers do.
 */

const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type as string, "null"] });

/** Fields of /v1/completions and /v1/chat/completions that become completion options. */
export const samplingProperties = {
  model: { type: "string" },
  max_tokens: nullable({ type: "integer", minimum: 0 }),
  temperature: nullable({ type: "number", minimum: 0, maximum: 2 }),
  top_p: nullable({ type: "number", exclusiveMinimum: 0, maximum: 1 }),
  top_k: nullable({ type: "integer", minimum: 0 }),
  min_p: nullable({ type: "number", minimum: 0, maximum: 1 }),
  repeat_penalty: nullable({ type: "number", exclusiveMinimum: 0 }),
  repeat_last_n: nullable({ type: "integer", minimum: -1 }),
  frequency_penalty: nullable({ type: "number", minimum: -2, maximum: 2 }),
  presence_penalty: nullable({ type: "number", minimum: -2, maximum: 2 }),
  seed: nullable({ type: "integer", minimum: 0, maximum: 4294967295 }),
  stop: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 16 }, { type: "null" }] },
  stream: nullable({ type: "boolean" }),
  stream_options: nullable({ type: "object", properties: { include_usage: { type: "boolean" } } }),
  n: nullable({ type: "integer", minimum: 1, maximum: 1 }),
  ignore_eos: nullable({ type: "boolean" }),
  user: { type: "string" },
} as const;

/** The request fields above, as the handlers see them. */
export interface SamplingFields {
  model?: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  repeat_penalty?: number | null;
  repeat_last_n?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  n?: number | null;
  ignore_eos?: boolean | null;
  user?: string;
}

export const usageSchema = {
  type: "object",
  properties: {
    prompt_tokens: { type: "integer" },
    completion_tokens: { type: "integer" },
    total_tokens: { type: "integer" },
    prompt_tokens_details: { type: "object", properties: { cached_tokens: { type: "integer" } } },
  },
} as const;

/** llama.cpp's server reports the same figures under `timings`. */
export const timingsSchema = {
  type: "object",
  properties: {
    prompt_n: { type: "integer" },
    cache_n: { type: "integer" },
    prompt_ms: { type: "number" },
    prompt_per_second: { type: "number" },
    predicted_n: { type: "integer" },
    predicted_ms: { type: "number" },
    predicted_per_second: { type: "number" },
  },
} as const;

export const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        message: { type: "string" },
        type: { type: "string" },
        param: { type: ["string", "null"] },
        code: { type: ["string", "null"] },
      },
    },
  },
} as const;

/** The error body for every 4xx and 5xx a route can answer. */
export const errorResponses = { "4xx": errorSchema, "5xx": errorSchema } as const;

/**
 * The responses of a (chat) completion route: the 200 body — id, object, created, model,
 * system_fingerprint, choices, usage, timings — with `choice` the route's own choice fields
 * (text, or message), and the error bodies.
 */
export function completionResponses<Choice extends Record<string, unknown>>(choice: Choice) {
  return {
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
            properties: { index: { type: "integer" }, ...choice, logprobs: { type: "null" }, finish_reason: { type: "string" } },
          },
        },
        usage: usageSchema,
        timings: timingsSchema,
      },
    },
    ...errorResponses,
  } as const;
}
