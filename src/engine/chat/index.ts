/** Public surface of chat formatting. */
export { ChatFormatter, type ChatFormatOptions, type ChatTemplateSources } from "./ChatFormatter.js";
export { ChatTemplate } from "./ChatTemplate.js";
export { renderChat } from "./renderChat.js";
export { chatTemplateOf, specialTokenText, CHAT_TEMPLATE_KEY } from "./modelChat.js";
export { CHATML_TEMPLATE, CHATML_NAME } from "./chatml.js";
export { ChatTemplateError, type ChatTemplateErrorCode } from "./errors.js";
export type { TemplateCapabilities } from "./capabilities.js";
export type { ChatMessage, ChatRole, ChatContentPart, ChatToolCall, ChatTool, RenderChatOptions } from "./types.js";
