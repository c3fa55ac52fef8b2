/** POST /v1/chat/completions: the request OpenAI clients send, and the reply (when not streamed). */
import type { ChatMessage, ChatTool } from "../../index.js";
import { completionResponses, samplingProperties, type SamplingFields } from "./common.js";

const contentPart = { type: "object", required: ["type"], properties: { type: { type: "string" }, text: { type: "string" } } } as const;

const toolCall = {
  type: "object",
  required: ["function"],
  properties: {
    id: { type: "string" },
    type: { type: "string" },
    function: { type: "object", required: ["name"], properties: { name: { type: "string" }, arguments: { anyOf: [{ type: "string" }, { type: "object" }] } } },
  },
} as const;

export const messageSchema = {
  type: "object",
  required: ["role"],
  properties: {
    role: { type: "string", enum: ["system", "developer", "user", "assistant", "tool"] },
    content: { anyOf: [{ type: "string" }, { type: "null" }, { type: "array", items: contentPart }] },
    name: { type: "string" },
    tool_call_id: { type: "string" },
    tool_calls: { type: "array", items: toolCall },
    reasoning_content: { type: "string" },
  },
} as const;

export interface ChatCompletionRequest extends SamplingFields {
  messages: ChatMessage[];
  max_completion_tokens?: number | null;
  tools?: ChatTool[];
  chat_template_kwargs?: { enable_thinking?: boolean };
}

export const chatCompletionSchema = {
  body: {
    type: "object",
    required: ["messages"],
    properties: {
      ...samplingProperties,
      messages: { type: "array", minItems: 1, items: messageSchema },
      max_completion_tokens: { type: ["integer", "null"], minimum: 0 },
      tools: { type: "array", items: { type: "object" } },
      chat_template_kwargs: { type: "object", properties: { enable_thinking: { type: "boolean" } } },
      logprobs: { type: ["boolean", "null"], enum: [false, null] },
    },
  },
  response: completionResponses({ message: { type: "object", properties: { role: { type: "string" }, content: { type: "string" } } } }),
} as const;
