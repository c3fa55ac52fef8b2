/**
 * Parsing and rendering a Jinja template with the globals chat templates expect, turning every
 * failure into a ChatTemplateError.
 *
 * Globals, as in llama.cpp's engine and HF transformers: `true`/`false`/`none` (and the Python
 * spellings `True`/`False`/`None`), `range`, `raise_exception(message)` (→ ChatTemplateError
 * RAISED with the template's message) and `strftime_now(format)` (C-locale strftime of the
 * injected clock). `namespace`, `tojson` and the filters are @huggingface/jinja's own.
 */
import { Environment, Template } from "@huggingface/jinja";
import { CompatInterpreter, type JinjaProgram } from "./compatInterpreter.js";
import { ChatTemplateError } from "./errors.js";
import { strftime } from "./strftime.js";

/** Python's `range(stop)` / `range(start, stop[, step])`. */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error("range() step must not be zero");
  const values: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) values.push(i);
  return values;
}

function globals(now: Date): Record<string, unknown> {
  return {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range,
    raise_exception: (message?: unknown) => {
      throw new ChatTemplateError("RAISED", `chat template raised an exception: ${String(message ?? "")}`);
    },
    strftime_now: (format: unknown) => strftime(now, String(format)),
  };
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The parsed template; ChatTemplateError PARSE_FAILED names the problem. */
export function parseTemplate(source: string): JinjaProgram {
  try {
    return new Template(source).parsed;
  } catch (error) {
    // @huggingface/jinja's parser runs off the end of the tokens when a block is left open
    const problem = error instanceof TypeError ? "unexpected end of template (a {% … %} block is not closed)" : describe(error);
    throw new ChatTemplateError("PARSE_FAILED", `chat template does not parse: ${problem}`);
  }
}

/**
 * The text `program` renders with `context` (which may override the globals). Throws
 * ChatTemplateError RAISED (the template's raise_exception) or RENDER_FAILED.
 */
export function renderProgram(program: JinjaProgram, context: Readonly<Record<string, unknown>>, now: Date): string {
  const environment = new Environment();
  for (const [name, value] of Object.entries({ ...globals(now), ...context })) environment.set(name, value);
  try {
    const result = new CompatInterpreter(environment).run(program);
    return String(result.value);
  } catch (error) {
    if (error instanceof ChatTemplateError) throw error;
    throw new ChatTemplateError("RENDER_FAILED", `chat template failed to render: ${describe(error)}`);
  }
}
