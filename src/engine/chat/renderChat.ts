import { ChatTemplate } from "./ChatTemplate.js";
import type { ChatMessage, RenderChatOptions } from "./types.js";

/**
 * The prompt text `template` (a GGUF's `tokenizer.chat_template`) renders for `messages`;
 * undefined, "" or "chatml" render ChatML. Parses and probes the template on every call: hold a
 * ChatTemplate (or a ChatFormatter) to render many conversations with one template.
 *
 * Throws ChatTemplateError: PARSE_FAILED, RENDER_FAILED, RAISED (the template's
 * `raise_exception` message) or BAD_MESSAGE.
 */
export function renderChat(template: string | undefined, messages: readonly ChatMessage[], options: RenderChatOptions): string {
  return new ChatTemplate(template).render(messages, options);
}
