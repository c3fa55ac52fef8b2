/**
 * A model's chat formatting: its template (or the ChatML fallback) with its BOS/EOS texts, and
 * the prompt's token ids as llama.cpp's server makes them.
 */
import type { GgufFile } from "../gguf/types.js";
import type { Tokenizer } from "../tokenizer/Tokenizer.js";
import { usesChatmlFallback } from "./chatml.js";
import { ChatTemplate } from "./ChatTemplate.js";
import { ChatTemplateError } from "./errors.js";
import { chatTemplateOf, specialTokenText } from "./modelChat.js";
import type { ChatMessage, RenderChatOptions } from "./types.js";

/** RenderChatOptions without the token texts (the formatter knows them); generation prompt on by default. */
export type ChatFormatOptions = Omit<RenderChatOptions, "bosToken" | "eosToken" | "addGenerationPrompt"> & {
  /** default true */
  readonly addGenerationPrompt?: boolean;
};

/** A model's templates: `tokenizer.chat_template` and `tokenizer.chat_template.tool_use`. */
export interface ChatTemplateSources {
  readonly default?: string;
  readonly toolUse?: string;
}

/** Formats conversations for one model: hold one per loaded model and reuse it. */
export class ChatFormatter {
  /** `bos_token` as templates see it ("" when the vocabulary has none) */
  readonly bosToken: string;
  /** `eos_token` as templates see it ("" when the vocabulary has none) */
  readonly eosToken: string;
  /** the template for conversations without tools (ChatML when the model has none) */
  readonly template: ChatTemplate;
  /** the model's tool-use variant, used when tools are given */
  readonly toolUseTemplate: ChatTemplate | undefined;

  /**
   * As llama.cpp's `common_chat_templates_init`: without a default template the tool-use one
   * serves as default, and without either ChatML does. A tool-use variant that does not parse
   * is ignored (llama.cpp logs and ignores it); a default that does not parse throws
   * ChatTemplateError PARSE_FAILED.
   */
  constructor(
    private readonly tokenizer: Tokenizer,
    templates: ChatTemplateSources = {},
  ) {
    this.bosToken = specialTokenText(tokenizer, tokenizer.bosId);
    this.eosToken = specialTokenText(tokenizer, tokenizer.eosId);
    const useToolUseAsDefault = usesChatmlFallback(templates.default) && templates.toolUse !== undefined;
    this.template = new ChatTemplate(useToolUseAsDefault ? templates.toolUse : templates.default);
    this.toolUseTemplate = templates.toolUse === undefined ? undefined : parseOrIgnore(templates.toolUse);
  }

  /** The formatter of a loaded model, from its GGUF metadata and tokenizer. */
  static forModel(file: GgufFile, tokenizer: Tokenizer): ChatFormatter {
    return new ChatFormatter(tokenizer, { default: chatTemplateOf(file), toolUse: chatTemplateOf(file, "tool_use") });
  }

  /** The prompt text as the template writes it (a BOS the template writes included). */
  format(messages: readonly ChatMessage[], options: ChatFormatOptions = {}): string {
    const template = options.tools !== undefined && options.tools.length > 0 && this.toolUseTemplate ? this.toolUseTemplate : this.template;
    return template.render(messages, {
      ...options,
      addGenerationPrompt: options.addGenerationPrompt ?? true,
      bosToken: this.bosToken,
      eosToken: this.eosToken,
    });
  }

  /**
   * The prompt's token ids, as llama.cpp: when the tokenizer adds BOS (EOS) itself, a BOS text
   * at the start (EOS text at the end) of the rendered text is removed first, so that it is not
   * there twice; then the text is tokenized with special tokens added and control-token texts
   * ("<|im_start|>") parsed as those tokens.
   */
  encode(messages: readonly ChatMessage[], options: ChatFormatOptions = {}): number[] {
    let text = this.format(messages, options);
    if (this.tokenizer.addBos && this.bosToken !== "" && text.startsWith(this.bosToken)) {
      text = text.slice(this.bosToken.length);
    }
    if (this.tokenizer.addEos && this.eosToken !== "" && text.endsWith(this.eosToken)) {
      text = text.slice(0, text.length - this.eosToken.length);
    }
    return this.tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
  }
}

function parseOrIgnore(source: string): ChatTemplate | undefined {
  try {
    return new ChatTemplate(source);
  } catch (error) {
    if (error instanceof ChatTemplateError) return undefined;
    throw error;
  }
}
