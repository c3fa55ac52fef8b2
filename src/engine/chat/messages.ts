/**
 * Messages as llama.cpp hands them to a template (`common_chat_msg::to_json_oaicompat` and the
 * workarounds of `common_chat_templates_apply_jinja`):
 *
 * 1. Canonical shape: `role`, `content` (a string: text parts joined with "\n", "" when null or
 *    absent), and `reasoning_content`, `name`, `tool_call_id`, `tool_calls` when given and
 *    non-empty. Tool-call arguments become JSON strings. Other fields are dropped.
 * 2. Role "developer" becomes "system" (not for gpt-oss templates, which have their own).
 * 3. A template that reads tool-call arguments as objects gets them parsed from JSON.
 * 4. A template that ignores system messages gets the first system message merged into the
 *    next message (`system + "\n" + next`), or dropped when it is the only message.
 * 5. A template that only renders typed content gets `[{ type: "text", text }]` contents.
 */
import type { TemplateCapabilities } from "./capabilities.js";
import { ChatTemplateError } from "./errors.js";
import type { ChatContentPart, ChatMessage, ChatToolCall } from "./types.js";

/** A message as the template sees it. */
export type TemplateMessage = Record<string, unknown> & { role: string; content: unknown };

export interface PrepareOptions {
  /** map "developer" to "system" (llama.cpp: every template except gpt-oss's) */
  readonly mapDeveloperToSystem: boolean;
}

function flattenContent(content: ChatMessage["content"], index: number): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw badMessage(index, "content must be a string, an array of text parts or null");
  const texts = (content as readonly ChatContentPart[]).map((part) => {
    if (part?.type !== "text") throw badMessage(index, `content part of type ${JSON.stringify(part?.type)} cannot be rendered (text only)`);
    if (typeof part.text !== "string") throw badMessage(index, "text content part has no text");
    return part.text;
  });
  return texts.join("\n");
}

function canonicalToolCall(call: ChatToolCall, index: number): Record<string, unknown> {
  if (typeof call?.function?.name !== "string") throw badMessage(index, "tool call has no function name");
  if (call.type !== undefined && call.type !== "function") throw badMessage(index, `tool call type ${JSON.stringify(call.type)} is not "function"`);
  const args = call.function.arguments;
  const canonical: Record<string, unknown> = {
    type: "function",
    function: { name: call.function.name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) },
  };
  if (call.id) canonical.id = call.id;
  return canonical;
}

function canonicalMessage(message: ChatMessage, index: number, mapDeveloper: boolean): TemplateMessage {
  if (typeof message?.role !== "string" || message.role === "") throw badMessage(index, "message has no role");
  const role = mapDeveloper && message.role === "developer" ? "system" : message.role;
  const out: TemplateMessage = { role, content: flattenContent(message.content, index) };
  if (message.reasoning_content) out.reasoning_content = message.reasoning_content;
  if (message.name) out.name = message.name;
  if (message.tool_call_id) out.tool_call_id = message.tool_call_id;
  if (message.tool_calls && message.tool_calls.length > 0) {
    out.tool_calls = message.tool_calls.map((call) => canonicalToolCall(call, index));
  }
  return out;
}

function mergeSystemIntoNext(messages: TemplateMessage[]): TemplateMessage[] {
  if (messages.length === 0 || messages[0].role !== "system") return messages;
  if (messages.length === 1) return [];
  const [system, next, ...rest] = messages;
  return [{ ...next, content: `${String(system.content)}\n${String(next.content)}` }, ...rest];
}

function parseArguments(message: TemplateMessage, index: number): TemplateMessage {
  if (!Array.isArray(message.tool_calls)) return message;
  const toolCalls = (message.tool_calls as Record<string, { name: string; arguments: string }>[]).map((call) => {
    try {
      return { ...call, function: { ...call.function, arguments: JSON.parse(call.function.arguments) as unknown } };
    } catch {
      throw badMessage(index, `tool call arguments of ${JSON.stringify(call.function.name)} are not valid JSON`);
    }
  });
  return { ...message, tool_calls: toolCalls };
}

/** `messages` as `template` should see them (see the file comment for the steps). */
export function prepareMessages(messages: readonly ChatMessage[], caps: TemplateCapabilities, options: PrepareOptions): TemplateMessage[] {
  if (!Array.isArray(messages)) throw new ChatTemplateError("BAD_MESSAGE", "messages must be an array");
  let prepared = messages.map((message, i) => canonicalMessage(message, i, options.mapDeveloperToSystem));
  if (caps.objectArguments) prepared = prepared.map((m, i) => parseArguments(m, i));
  if (!caps.systemRole) prepared = mergeSystemIntoNext(prepared);
  if (!caps.stringContent && caps.typedContent) {
    prepared = prepared.map((m) => ({ ...m, content: [{ type: "text", text: m.content }] }));
  }
  return prepared;
}

function badMessage(index: number, problem: string): ChatTemplateError {
  return new ChatTemplateError("BAD_MESSAGE", `message ${index}: ${problem}`);
}
