/**
 * A chat template, parsed once: turns OpenAI-shaped messages into the prompt text the model was
 * trained on, as llama.cpp's `common_chat_templates_apply` (Jinja path) does.
 */
import { probeCapabilities, type TemplateCapabilities } from "./capabilities.js";
import { CHATML_TEMPLATE, usesChatmlFallback } from "./chatml.js";
import type { JinjaProgram } from "./compatInterpreter.js";
import { ChatTemplateError } from "./errors.js";
import { parseTemplate, renderProgram } from "./jinjaRuntime.js";
import { prepareMessages } from "./messages.js";
import { strftime } from "./strftime.js";
import type { ChatMessage, RenderChatOptions } from "./types.js";

/** One chat template (or the ChatML fallback), parsed once and probed on first use. */
export class ChatTemplate {
  /** the Jinja source rendered (CHATML_TEMPLATE for the fallback) */
  readonly source: string;
  /** true when the model has no template of its own and ChatML stands in */
  readonly isChatmlFallback: boolean;
  private readonly program: JinjaProgram;
  private probed: TemplateCapabilities | undefined;

  /**
   * @param template the model's `tokenizer.chat_template`; undefined, "" or "chatml" select
   *   the ChatML fallback. Throws ChatTemplateError PARSE_FAILED for invalid Jinja.
   */
  constructor(template: string | undefined) {
    this.isChatmlFallback = usesChatmlFallback(template);
    this.source = this.isChatmlFallback ? CHATML_TEMPLATE : (template as string);
    this.program = parseTemplate(this.source);
  }

  /** What the template renders (probed on first use, then kept). */
  get capabilities(): TemplateCapabilities {
    this.probed ??= probeCapabilities((context) => {
      try {
        return renderProgram(this.program, context, new Date());
      } catch (error) {
        if (error instanceof ChatTemplateError) return undefined;
        throw error;
      }
    });
    return this.probed;
  }

  /**
   * The prompt text for `messages`. The template sees `messages` (prepared as llama.cpp does,
   * see messages.ts), `add_generation_prompt`, `bos_token`, `eos_token`, `enable_thinking`,
   * `tools` (when non-empty), `datetime` ("Jul 26 2024"), `date_string` ("26 Jul 2024"), the
   * globals of jinjaRuntime.ts, then `extraContext`. A BOS the template writes stays in the text
   * (ChatFormatter removes it before tokenizing when the tokenizer adds one).
   * Throws ChatTemplateError RAISED, RENDER_FAILED or BAD_MESSAGE.
   */
  render(messages: readonly ChatMessage[], options: RenderChatOptions): string {
    const now = options.now ?? new Date();
    const prepared = prepareMessages(messages, this.capabilities, {
      mapDeveloperToSystem: !this.source.includes("<|channel|>"),
    });
    const context: Record<string, unknown> = {
      messages: prepared,
      add_generation_prompt: options.addGenerationPrompt,
      bos_token: options.bosToken,
      eos_token: options.eosToken,
      enable_thinking: options.enableThinking ?? true,
      datetime: strftime(now, "%b %d %Y"),
      date_string: strftime(now, "%d %b %Y"),
      ...(options.tools !== undefined && options.tools.length > 0 ? { tools: options.tools } : {}),
      ...options.extraContext,
    };
    return renderProgram(this.program, context, now);
  }
}
