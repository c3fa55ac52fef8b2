/** renderChat: the ChatML fallback, the template context, message preparation and typed errors. */
import { describe, expect, it } from "vitest";
import { ChatTemplateError } from "../../../src/engine/chat/errors.js";
import { ChatTemplate } from "../../../src/engine/chat/ChatTemplate.js";
import { renderChat } from "../../../src/engine/chat/renderChat.js";
import type { ChatMessage, RenderChatOptions } from "../../../src/engine/chat/types.js";

const NOW = new Date(2024, 6, 26, 12, 0, 0);
const OPTIONS: RenderChatOptions = { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", now: NOW };

const CHAT: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hello" },
  { role: "assistant", content: "Hi" },
  { role: "user", content: "Bye" },
];

/** Prints each message as role=content|, to see what the template was given. */
const ECHO = "{% for m in messages %}{{ m.role }}={{ m.content }}|{% endfor %}";

describe("ChatML fallback (no template)", () => {
  const expected =
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n" +
    "<|im_start|>assistant\nHi<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n";

  it.each([undefined, "", "chatml"])("renders ChatML for template %j", (template) => {
    expect(renderChat(template, CHAT, OPTIONS)).toBe(expected);
    expect(new ChatTemplate(template).isChatmlFallback).toBe(true);
  });

  it("ends without the assistant opening when no generation prompt is asked for", () => {
    expect(renderChat(undefined, CHAT, { ...OPTIONS, addGenerationPrompt: false })).toBe(expected.slice(0, -"<|im_start|>assistant\n".length));
  });

  it("writes no BOS (the tokenizer adds it)", () => {
    expect(renderChat(undefined, [{ role: "user", content: "x" }], OPTIONS)).toBe("<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n");
  });
});

describe("template context", () => {
  it("provides bos_token, eos_token, add_generation_prompt, enable_thinking and the dates", () => {
    const template =
      "{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ enable_thinking }}|" +
      "{{ strftime_now('%d %B %Y') }}|{{ date_string }}|{{ datetime }}|{{ tools is defined }}";
    expect(renderChat(template, [], OPTIONS)).toBe("<s>|</s>|True|True|26 July 2024|26 Jul 2024|Jul 26 2024|False");
    expect(renderChat(template, [], { ...OPTIONS, addGenerationPrompt: false, enableThinking: false, bosToken: "", eosToken: "" })).toBe(
      "||False|False|26 July 2024|26 Jul 2024|Jul 26 2024|False",
    );
  });

  it("passes tools only when there are some, and extra variables last", () => {
    const template = "{% if tools is defined %}{{ tools | length }} {{ tools[0].function.name }}{% else %}no tools{% endif %} {{ flavour }}";
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    expect(renderChat(template, [], { ...OPTIONS, tools: [] })).toBe("no tools ");
    expect(renderChat(template, [], { ...OPTIONS, tools, extraContext: { flavour: "mint" } })).toBe("1 get_weather mint");
    expect(renderChat("{{ bos_token }}", [], { ...OPTIONS, extraContext: { bos_token: "[override]" } })).toBe("[override]");
  });
});

describe("messages, prepared as llama.cpp prepares them", () => {
  it("joins text parts with newlines and renders null content as empty", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
      { role: "assistant", content: null },
    ];
    expect(renderChat(ECHO, messages, OPTIONS)).toBe("user=one\ntwo|assistant=|");
  });

  it("maps developer to system, except for gpt-oss style templates", () => {
    const messages: ChatMessage[] = [{ role: "developer", content: "rules" }];
    expect(renderChat(ECHO, messages, OPTIONS)).toBe("system=rules|");
    expect(renderChat(ECHO + "{# <|channel|> #}", messages, OPTIONS)).toBe("developer=rules|");
  });

  it("merges the system message into the next one when the template ignores system messages", () => {
    const gemmaLike =
      "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
      "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}";
    expect(renderChat(gemmaLike, CHAT, OPTIONS)).toBe("<user>Be brief.\nHello<assistant>Hi<user>Bye");
    expect(renderChat(gemmaLike, [{ role: "system", content: "alone" }], OPTIONS)).toBe("");
    expect(new ChatTemplate(gemmaLike).capabilities.systemRole).toBe(false);
  });

  it("gives typed content to a template that only renders typed content", () => {
    const typedOnly = "{% for m in messages %}{% for part in m.content %}{{ part.text }};{% endfor %}{% endfor %}";
    expect(new ChatTemplate(typedOnly).capabilities).toMatchObject({ stringContent: false, typedContent: true });
    expect(renderChat(typedOnly, [{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "text", text: "b" }] }], OPTIONS)).toBe("a;b;");
  });

  it("parses tool-call arguments for templates that render them as objects", () => {
    const template =
      "{% for m in messages %}{% for c in m.tool_calls %}{{ c.function.name }}{{ c.function.arguments | tojson }}{% endfor %}{% endfor %}";
    const messages: ChatMessage[] = [
      { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"x":1,"y":"z"}' } }] },
    ];
    expect(new ChatTemplate(template).capabilities.objectArguments).toBe(true);
    expect(renderChat(template, messages, OPTIONS)).toBe('f{"x": 1, "y": "z"}');
    const bad: ChatMessage[] = [{ role: "assistant", tool_calls: [{ function: { name: "f", arguments: "{oops" } }] }];
    expect(() => renderChat(template, bad, OPTIONS)).toThrow(expect.objectContaining({ code: "BAD_MESSAGE", message: expect.stringContaining('"f"') }));
  });

  it("keeps string arguments for templates that print them as given", () => {
    const template = "{% for m in messages %}{% for c in m.tool_calls %}{{ '>>>' + c.function.arguments }}{% endfor %}{% endfor %}";
    const messages: ChatMessage[] = [{ role: "assistant", tool_calls: [{ function: { name: "f", arguments: '{"x":1}' } }] }];
    expect(renderChat(template, messages, OPTIONS)).toBe('>>>{"x":1}');
  });

  it("rejects content it cannot render, naming the message and the part", () => {
    const image: ChatMessage[] = [{ role: "user", content: [{ type: "image_url" }] }];
    expect(() => renderChat(ECHO, image, OPTIONS)).toThrow(
      expect.objectContaining({ name: "ChatTemplateError", code: "BAD_MESSAGE", message: 'message 0: content part of type "image_url" cannot be rendered (text only)' }),
    );
    expect(() => renderChat(ECHO, [{ content: "x" } as unknown as ChatMessage], OPTIONS)).toThrow(expect.objectContaining({ code: "BAD_MESSAGE" }));
  });
});

describe("typed errors", () => {
  const alternating =
    "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{{ m.content }}{% endfor %}";

  it("turns raise_exception into ChatTemplateError RAISED with the template's message", () => {
    const render = () => renderChat(alternating, [{ role: "user", content: "a" }, { role: "user", content: "b" }], OPTIONS);
    expect(render).toThrow(ChatTemplateError);
    expect(render).toThrow(
      expect.objectContaining({ code: "RAISED", message: "chat template raised an exception: Conversation roles must alternate user/assistant/user/assistant/..." }),
    );
    expect(renderChat(alternating, [{ role: "user", content: "a" }, { role: "assistant", content: "b" }], OPTIONS)).toBe("ab");
  });

  it.each([
    ["an unclosed block", "{% for m in messages %}{{ m.content }}"],
    ["an unclosed expression", "{{ messages"],
    ["an unknown statement", "{% frobnicate %}"],
  ])("rejects %s with PARSE_FAILED on one line", (_what, template) => {
    let error: unknown;
    try {
      renderChat(template, CHAT, OPTIONS);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChatTemplateError);
    expect(error).toMatchObject({ code: "PARSE_FAILED", message: expect.stringMatching(/^chat template does not parse: \S/) });
    expect((error as Error).message).not.toContain("\n");
  });

  it("says that a block is not closed", () => {
    expect(() => renderChat("{% if messages %}open", CHAT, OPTIONS)).toThrow(
      expect.objectContaining({ code: "PARSE_FAILED", message: "chat template does not parse: unexpected end of template (a {% … %} block is not closed)" }),
    );
  });

  it("rejects a template that fails while rendering with RENDER_FAILED", () => {
    expect(() => renderChat("{{ messages | no_such_filter }}", CHAT, OPTIONS)).toThrow(
      expect.objectContaining({ code: "RENDER_FAILED", message: expect.stringMatching(/^chat template failed to render: .*no_such_filter/) }),
    );
    expect(() => renderChat("{{ messages[0].content.nope() }}", CHAT, OPTIONS)).toThrow(expect.objectContaining({ code: "RENDER_FAILED" }));
  });
});
