/**
 * Conformance with llama.cpp's chat-template test data (extracted from node-llama-cpp's git
 * bundle of llama.cpp, see test/helpers/llamaCppSource.ts):
 * - every models/templates/*.jinja renders a system + user/assistant/user conversation;
 * - every expected rendering of tests/test-chat-template.cpp that llama.cpp checks through its
 *   Jinja path is matched exactly.
 */
import { describe, expect, it } from "vitest";
import { renderChat } from "../../../src/engine/chat/renderChat.js";
import type { ChatMessage } from "../../../src/engine/chat/types.js";
import { llamaCppBundleCommit, llamaCppChatTemplates, llamaCppFile } from "../../helpers/llamaCppSource.js";
import { llamaCppChatCases, llamaCppConversation } from "./llamaCppChatCases.js";

const NOW = new Date(2024, 6, 26, 12, 0, 0);

const CONVERSATION: ChatMessage[] = [
  { role: "system", content: "You are a helpful assistant" },
  { role: "user", content: "Hello" },
  { role: "assistant", content: "Hi there" },
  { role: "user", content: "Who are you" },
];

/** A conversation with a tool call (OpenAI shape: JSON-string arguments, 9-character id as Mistral requires). */
const TOOL_CONVERSATION: ChatMessage[] = [
  { role: "system", content: "You are a helpful assistant" },
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: null, tool_calls: [{ id: "call00001", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
  { role: "tool", tool_call_id: "call00001", content: "18C" },
];
const TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "The weather in a city",
      parameters: { type: "object", properties: { city: { type: "string", description: "the city" } }, required: ["city"] },
    },
  },
];

/** Templates of models/templates that cannot be rendered here, and why. */
const EXCLUDED: ReadonlyMap<string, string> = new Map([
  [
    "ByteDance-Seed-OSS.jinja",
    "its thinking-budget table is a dict literal with integer keys ({0: 0, 512: 128, …}); @huggingface/jinja objects have string keys only",
  ],
]);

/** Templates that refuse a tool conversation by their own rules (raise_exception). */
const NO_TOOL_CONVERSATION: ReadonlyMap<string, string> = new Map([
  ["google-gemma-2-2b-it.jinja", "Gemma 2 has no tool role: its template raises unless roles alternate user/assistant"],
]);

const templates = llamaCppChatTemplates();
const renderable = templates.filter((t) => !EXCLUDED.has(t.name));

describe("llama.cpp source bundle", () => {
  it("is read from node-llama-cpp, and its absence fails the tests with the reason", () => {
    expect(llamaCppBundleCommit()).toMatch(/^[0-9a-f]{40}$/);
    expect(() => llamaCppBundleCommit("/nonexistent/gitRelease.bundle")).toThrow(
      /^llama\.cpp source bundle not found at \/nonexistent\/gitRelease\.bundle: .*node-llama-cpp/,
    );
  });
});

describe("llama.cpp models/templates", () => {
  it("are all there", () => {
    expect(templates.length).toBeGreaterThanOrEqual(60);
  });

  it.each(renderable.map((t) => [t.name, t.source]))("%s renders a system + three-turn conversation", (_name, source) => {
    const text = renderChat(source, CONVERSATION, { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", now: NOW });
    for (const message of CONVERSATION) expect(text).toContain(message.content);
  });

  it.each(renderable.filter((t) => !NO_TOOL_CONVERSATION.has(t.name)).map((t) => [t.name, t.source]))(
    "%s renders a conversation with tools and a tool call",
    (_name, source) => {
      const text = renderChat(source, TOOL_CONVERSATION, { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", tools: TOOLS, now: NOW });
      expect(text).toContain("Weather in Paris?");
    },
  );

  it.each([...NO_TOOL_CONVERSATION])("%s refuses a tool conversation: %s", (name) => {
    const template = templates.find((t) => t.name === name);
    expect(template, `${name} is no longer in models/templates`).toBeDefined();
    const render = () => renderChat(template!.source, TOOL_CONVERSATION, { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", tools: TOOLS });
    expect(render).toThrow(expect.objectContaining({ code: "RAISED" }));
  });

  it.each([...EXCLUDED].map(([name, reason]) => [name, reason]))("%s is excluded: %s", (name) => {
    const template = templates.find((t) => t.name === name);
    expect(template, `${name} is no longer in models/templates: remove its exclusion`).toBeDefined();
    const render = () => renderChat(template!.source, CONVERSATION, { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>" });
    expect(render).toThrow(expect.objectContaining({ name: "ChatTemplateError", code: "RENDER_FAILED" }));
  });
});

const cppSource = llamaCppFile("tests/test-chat-template.cpp");
const cases = llamaCppChatCases(cppSource);
const conversation = llamaCppConversation(cppSource);
const checkedWithJinja = cases.filter((c) => c.supportedWithJinja);

describe("expected renderings of llama.cpp's test-chat-template.cpp", () => {
  it("are read from the C++ source", () => {
    expect(conversation.map(([role]) => role)).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(checkedWithJinja.length).toBeGreaterThanOrEqual(cases.length - 2);
    expect(cases.every((c) => c.template !== "" && c.expectedJinja !== "")).toBe(true);
  });

  it.each(checkedWithJinja.map((c) => [c.name, c] as const))("%s renders exactly as llama.cpp", (_name, testCase) => {
    const messages: ChatMessage[] = [...conversation, ...testCase.extraConversation].map(([role, content]) => ({ role, content }));
    const text = renderChat(testCase.template, messages, {
      addGenerationPrompt: true,
      bosToken: testCase.bosToken,
      eosToken: testCase.eosToken,
      now: NOW,
    });
    expect(text).toBe(testCase.expectedJinja);
  });
});
