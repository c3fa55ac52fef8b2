/**
 * Chat messages and render options, in the OpenAI chat-completions shape that llama.cpp's
 * server accepts and that chat templates are written for.
 */

/** The roles templates know; others (e.g. "ipython", "tool_response") are passed through. */
export type ChatRole = "system" | "developer" | "user" | "assistant" | "tool" | (string & {});

/** One part of a multi-part content. Only `text` parts can be rendered by a text model. */
export interface ChatContentPart {
  readonly type: string;
  readonly text?: string;
}

/** A tool call made by the assistant; `arguments` is a JSON string (OpenAI) or an object. */
export interface ChatToolCall {
  readonly id?: string;
  readonly type?: "function" | (string & {});
  readonly function: { readonly name: string; readonly arguments: string | Readonly<Record<string, unknown>> };
}

export interface ChatMessage {
  readonly role: ChatRole;
  /** text, text parts (joined with "\n"), or null/absent for an assistant turn with tool calls */
  readonly content?: string | readonly ChatContentPart[] | null;
  readonly tool_calls?: readonly ChatToolCall[];
  /** for role "tool": the call this message answers */
  readonly tool_call_id?: string;
  /** the tool's name (role "tool") or the speaker's name */
  readonly name?: string;
  /** the assistant's reasoning ("thinking") of an earlier turn */
  readonly reasoning_content?: string;
}

/** A tool definition in the OpenAI shape: `{ type: "function", function: { name, description, parameters } }`. */
export type ChatTool = Readonly<Record<string, unknown>>;

export interface RenderChatOptions {
  /** end with the opening of an assistant turn (`add_generation_prompt`) */
  readonly addGenerationPrompt: boolean;
  /** the model's BOS token text (`bos_token`), "" when it has none */
  readonly bosToken: string;
  /** the model's EOS token text (`eos_token`), "" when it has none */
  readonly eosToken: string;
  /** tool definitions; passed to the template as `tools` only when non-empty, as llama.cpp does */
  readonly tools?: readonly ChatTool[];
  /** `enable_thinking` for templates that have a thinking switch (Qwen3, …); default true, as llama.cpp */
  readonly enableThinking?: boolean;
  /** further template variables (llama.cpp's `chat_template_kwargs`); they override the defaults */
  readonly extraContext?: Readonly<Record<string, unknown>>;
  /** the clock for `strftime_now`, `date_string` and `datetime`; default: the current time */
  readonly now?: Date;
}
