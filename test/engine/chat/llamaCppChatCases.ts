/**
 * The expected renderings of llama.cpp's tests/test-chat-template.cpp, read from the C++ source:
 * the `std::vector<TestCase> test_cases { … }` initializer (positional fields, as in C++) and
 * the fixed `conversation` they are rendered from.
 *
 * Only what that file uses is understood: string literals with C escapes (adjacent literals
 * concatenate), `U8C(…)`/`u8` wrappers, `true`/`false`, braces, commas and comments.
 */

export interface LlamaCppChatCase {
  readonly name: string;
  readonly template: string;
  /** what llama.cpp's Jinja path (`common_chat_templates_apply`) must give */
  readonly expectedJinja: string;
  readonly bosToken: string;
  readonly eosToken: string;
  /** false when llama.cpp does not test the case through Jinja (with its reason, if any) */
  readonly supportedWithJinja: boolean;
  /** [role, content] pairs appended to the conversation */
  readonly extraConversation: readonly (readonly [string, string])[];
}

type Token = { kind: "string"; text: string } | { kind: "word"; text: string } | { kind: "punct"; text: string };
type CValue = string | boolean | CValue[];

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "?": "?" };

function readString(source: string, start: number): { text: string; end: number } {
  let text = "";
  let i = start + 1;
  while (source[i] !== '"') {
    if (i >= source.length) throw new Error("unterminated C string literal");
    if (source[i] !== "\\") {
      text += source[i++];
      continue;
    }
    const escape = source[i + 1];
    if (escape === "u" || escape === "U") {
      const digits = escape === "u" ? 4 : 8;
      text += String.fromCodePoint(parseInt(source.slice(i + 2, i + 2 + digits), 16));
      i += 2 + digits;
    } else if (escape in ESCAPES) {
      text += ESCAPES[escape];
      i += 2;
    } else {
      throw new Error(`unsupported C escape \\${escape}`);
    }
  }
  return { text, end: i + 1 };
}

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    if (/\s/.test(source[i])) i++;
    else if (source.startsWith("//", i)) i = source.includes("\n", i) ? source.indexOf("\n", i) : source.length;
    else if (source.startsWith("/*", i)) i = source.indexOf("*/", i) + 2;
    else if (source[i] === '"') {
      const { text, end } = readString(source, i);
      const previous = tokens.at(-1);
      if (previous?.kind === "string") previous.text += text; // adjacent literals concatenate
      else tokens.push({ kind: "string", text });
      i = end;
    } else {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 64))?.[0];
      tokens.push(word ? { kind: "word", text: word } : { kind: "punct", text: source[i] });
      i += word ? word.length : 1;
    }
  }
  return tokens;
}

/** Parses one braced initializer list starting at `tokens[start]`. */
function parseList(tokens: readonly Token[], start: number): { value: CValue[]; end: number } {
  const expect = (at: number, text: string): void => {
    if (tokens[at]?.text !== text) throw new Error(`expected "${text}", found "${tokens[at]?.text}"`);
  };
  const parseValue = (at: number): { value: CValue; end: number } => {
    const token = tokens[at];
    if (token.kind === "string") return { value: token.text, end: at + 1 };
    if (token.kind === "word" && (token.text === "true" || token.text === "false")) return { value: token.text === "true", end: at + 1 };
    if (token.kind === "word" && (token.text === "U8C" || token.text === "u8")) {
      expect(at + 1, "(");
      const inner = parseValue(at + 2);
      expect(inner.end, ")");
      return { value: inner.value, end: inner.end + 1 };
    }
    if (token.text === "{") return parseList(tokens, at);
    throw new Error(`unexpected "${token.text}" in the test cases`);
  };
  expect(start, "{");
  const items: CValue[] = [];
  let at = start + 1;
  while (tokens[at]?.text !== "}") {
    const { value, end } = parseValue(at);
    items.push(value);
    at = tokens[end]?.text === "," ? end + 1 : end;
  }
  return { value: items, end: at + 1 };
}

function initializerAfter(source: string, marker: string): CValue[] {
  const at = source.indexOf(marker);
  if (at < 0) throw new Error(`"${marker}" not found in test-chat-template.cpp`);
  const open = source.indexOf("{", at + marker.length - 1);
  return parseList(lex(source.slice(open)), 0).value;
}

const asString = (value: CValue | undefined, field: string): string => {
  if (value === undefined) return ""; // C++ default member initializer
  if (typeof value !== "string") throw new Error(`${field} is not a string`);
  return value;
};

function toPairs(value: CValue | undefined): [string, string][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error("a conversation is not a list");
  return value.map((pair) => {
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") throw new Error("a message is not {role, content}");
    return [pair[0], pair[1]];
  });
}

/** The fixed conversation every case renders (before its extra messages). */
export function llamaCppConversation(source: string): [string, string][] {
  return toPairs(initializerAfter(source, "std::vector<llama_chat_message> conversation {"));
}

/** The test cases, in file order. Field order is TestCase's: name, template, expected, jinja, bos, eos, supported, extra. */
export function llamaCppChatCases(source: string): LlamaCppChatCase[] {
  return initializerAfter(source, "std::vector<TestCase> test_cases {").map((entry, i) => {
    if (!Array.isArray(entry)) throw new Error(`test case ${i} is not a braced list`);
    const [name, template, expected, expectedJinja, bos, eos, supported, extra] = entry;
    const jinja = asString(expectedJinja, "expected_output_jinja");
    return {
      name: asString(name, "name"),
      template: asString(template, "template_str"),
      expectedJinja: jinja !== "" ? jinja : asString(expected, "expected_output"),
      bosToken: asString(bos, "bos_token"),
      eosToken: asString(eos, "eos_token"),
      supportedWithJinja: supported === undefined ? true : supported === true,
      extraConversation: toPairs(extra),
    };
  });
}
