/** Reading a model's template and special tokens, and turning a conversation into token ids. */
import { describe, expect, it } from "vitest";
import { ChatFormatter } from "../../../src/engine/chat/ChatFormatter.js";
import { chatTemplateOf, specialTokenText } from "../../../src/engine/chat/modelChat.js";
import { GgufFormatError } from "../../../src/engine/gguf/errors.js";
import { openGguf, parseGguf } from "../../../src/engine/gguf/reader.js";
import type { GgufFile } from "../../../src/engine/gguf/types.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { loadTokenizer } from "../../../src/engine/tokenizer/loadTokenizer.js";
import type { ChatMessage } from "../../../src/engine/chat/types.js";
import { modelFile } from "../../helpers/paths.js";

const TOKENS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "▁Hi", "▁there", "▁Hello", "user", "assistant", "system"];
const TYPES = [2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1]; // unknown, control ×6, normal
const id = (text: string): number => TOKENS.indexOf(text);
const BOS = id("<s>");
const EOS = id("</s>");

/** Llama 2 style: the template writes the BOS itself. */
const LLAMA2 =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content }} [/INST]" +
  "{% else %} {{ m.content }}{{ eos_token }}{% endif %}{% endfor %}";

function modelWith(metadata: (writer: GgufWriter) => GgufWriter = (w) => w): GgufFile {
  const writer = new GgufWriter()
    .setString("general.architecture", "llama")
    .setString("tokenizer.ggml.model", "llama")
    .setArray("tokenizer.ggml.tokens", GgufValueType.STRING, TOKENS)
    .setArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, TOKENS.map(() => 0))
    .setArray("tokenizer.ggml.token_type", GgufValueType.INT32, TYPES);
  return parseGguf(metadata(writer).toBytes());
}

const formatterFor = (file: GgufFile): ChatFormatter => ChatFormatter.forModel(file, loadTokenizer(file));
const count = (ids: readonly number[], token: number): number => ids.filter((t) => t === token).length;
const HELLO: ChatMessage[] = [{ role: "user", content: "Hello" }];

describe("chatTemplateOf", () => {
  it("reads tokenizer.chat_template and its named variants", () => {
    const file = modelWith((w) => w.setString("tokenizer.chat_template", LLAMA2).setString("tokenizer.chat_template.tool_use", "T"));
    expect(chatTemplateOf(file)).toBe(LLAMA2);
    expect(chatTemplateOf(file, "tool_use")).toBe("T");
    expect(chatTemplateOf(file, "rag")).toBeUndefined();
    expect(chatTemplateOf(modelWith())).toBeUndefined();
  });

  it("rejects a template that is not a string", () => {
    const file = modelWith((w) => w.setUint32("tokenizer.chat_template", 7));
    expect(() => chatTemplateOf(file)).toThrow(GgufFormatError);
    expect(() => chatTemplateOf(file)).toThrow(expect.objectContaining({ code: "WRONG_TYPE" }));
  });
});

describe("special token texts", () => {
  it("gives the BOS/EOS texts, or empty text for a missing token", () => {
    const tokenizer = loadTokenizer(modelWith());
    expect([specialTokenText(tokenizer, tokenizer.bosId), specialTokenText(tokenizer, tokenizer.eosId)]).toEqual(["<s>", "</s>"]);
    expect(specialTokenText(tokenizer, undefined)).toBe("");
    const formatter = formatterFor(modelWith());
    expect([formatter.bosToken, formatter.eosToken]).toEqual(["<s>", "</s>"]);
  });
});

describe("ChatFormatter.encode", () => {
  it("does not double the BOS when the template writes it and the tokenizer adds it", () => {
    const file = modelWith((w) => w.setString("tokenizer.chat_template", LLAMA2));
    const formatter = formatterFor(file);
    const tokenizer = loadTokenizer(file);
    const text = formatter.format(HELLO);
    expect(text).toBe("<s>[INST] Hello [/INST]");
    // tokenizing the rendered text as it is would give two BOS
    expect(tokenizer.encode(text, { addSpecial: true, parseSpecial: true }).slice(0, 2)).toEqual([BOS, BOS]);
    const ids = formatter.encode(HELLO);
    expect(ids.slice(0, 2)).toEqual([BOS, id("[INST]")]);
    expect(ids.at(-1)).toBe(id("[/INST]"));
    expect(count(ids, BOS)).toBe(1);
  });

  it("keeps the template's BOS when the tokenizer adds none", () => {
    const file = modelWith((w) => w.setString("tokenizer.chat_template", LLAMA2).setBool("tokenizer.ggml.add_bos_token", false));
    const ids = formatterFor(file).encode(HELLO);
    expect(ids[0]).toBe(BOS);
    expect(count(ids, BOS)).toBe(1);
  });

  it("adds the BOS when the template writes none (ChatML fallback), parsing control tokens", () => {
    const formatter = formatterFor(modelWith());
    expect(formatter.template.isChatmlFallback).toBe(true);
    const ids = formatter.encode(HELLO);
    expect(ids.slice(0, 2)).toEqual([BOS, id("<|im_start|>")]);
    expect(count(ids, BOS)).toBe(1);
    expect(count(ids, id("<|im_start|>"))).toBe(2); // the user turn and the generation prompt
    expect(count(ids, id("<|im_end|>"))).toBe(1);
  });

  it("does not double the EOS when the tokenizer appends one and the text ends with it", () => {
    const file = modelWith((w) => w.setString("tokenizer.chat_template", LLAMA2).setBool("tokenizer.ggml.add_eos_token", true));
    const conversation: ChatMessage[] = [...HELLO, { role: "assistant", content: "Hi" }];
    const formatter = formatterFor(file);
    expect(formatter.format(conversation, { addGenerationPrompt: false }).endsWith("</s>")).toBe(true);
    const ids = formatter.encode(conversation, { addGenerationPrompt: false });
    expect(ids.at(-1)).toBe(EOS);
    expect(count(ids, EOS)).toBe(1);
    expect(count(ids, BOS)).toBe(1);
  });
});

describe("template choice", () => {
  const TOOLS = [{ type: "function", function: { name: "f" } }];

  it("uses the tool_use variant when tools are given", () => {
    const file = modelWith((w) =>
      w.setString("tokenizer.chat_template", "plain").setString("tokenizer.chat_template.tool_use", "tools: {{ tools | length }}"),
    );
    const formatter = formatterFor(file);
    expect(formatter.format(HELLO)).toBe("plain");
    expect(formatter.format(HELLO, { tools: [] })).toBe("plain");
    expect(formatter.format(HELLO, { tools: TOOLS })).toBe("tools: 1");
  });

  it("uses the tool_use variant as default when there is no default, as llama.cpp", () => {
    const formatter = formatterFor(modelWith((w) => w.setString("tokenizer.chat_template.tool_use", "tool-use template")));
    expect(formatter.template.isChatmlFallback).toBe(false);
    expect(formatter.format(HELLO)).toBe("tool-use template");
  });

  it("ignores a tool_use variant that does not parse, and rejects a default that does not", () => {
    const brokenToolUse = formatterFor(
      modelWith((w) => w.setString("tokenizer.chat_template", "plain").setString("tokenizer.chat_template.tool_use", "{% if %}")),
    );
    expect(brokenToolUse.toolUseTemplate).toBeUndefined();
    expect(brokenToolUse.format(HELLO, { tools: TOOLS })).toBe("plain");
    expect(() => formatterFor(modelWith((w) => w.setString("tokenizer.chat_template", "{% if %}")))).toThrow(
      expect.objectContaining({ name: "ChatTemplateError", code: "PARSE_FAILED" }),
    );
  });
});

describe("a real model", () => {
  it("stories260K has no template: ChatML, one BOS", () => {
    using file = openGguf(modelFile("stories260K.gguf"));
    const tokenizer = loadTokenizer(file);
    const formatter = ChatFormatter.forModel(file, tokenizer);
    expect(formatter.template.isChatmlFallback).toBe(true);
    const ids = formatter.encode([{ role: "user", content: "Once upon a time" }]);
    expect(ids[0]).toBe(tokenizer.bosId);
    expect(count(ids, tokenizer.bosId!)).toBe(1);
  });

  it("TinyStories-656K with a template that writes its BOS (<|start_story|>): one BOS", () => {
    using file = openGguf(modelFile("TinyStories-656K-Q8_0.gguf"));
    const tokenizer = loadTokenizer(file);
    const formatter = new ChatFormatter(tokenizer, { default: "{{ bos_token }}{{ messages[0].content }}" });
    expect(formatter.bosToken).toBe("<|start_story|>");
    const ids = formatter.encode([{ role: "user", content: "Once upon a time" }]);
    expect(ids).toEqual(tokenizer.encode("Once upon a time"));
    expect(count(ids, tokenizer.bosId!)).toBe(1);
  });
});
