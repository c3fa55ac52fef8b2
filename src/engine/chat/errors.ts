import { LayerstreamError } from "../errors.js";

/**
 * The one error type of chat formatting. Every rejection has its own `code`; messages are one
 * line naming the problem (the template's own words for `RAISED`).
 */

export type ChatTemplateErrorCode =
  /** the template text is not valid Jinja (lexer or parser error) */
  | "PARSE_FAILED"
  /** the template failed while rendering (unknown filter, bad operand types, …) */
  | "RENDER_FAILED"
  /** the template called `raise_exception(message)`; the message is the template's */
  | "RAISED"
  /** a message the formatter cannot pass to a template (no role, non-text content part, …) */
  | "BAD_MESSAGE";

/** A chat template that cannot be parsed or rendered, or a message it cannot be given. */
export class ChatTemplateError extends LayerstreamError {
  declare readonly code: ChatTemplateErrorCode;

  constructor(code: ChatTemplateErrorCode, message: string) {
    super(code, oneLine(message));
  }
}

/** Collapses whitespace runs that contain a line break, so that every message is one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
