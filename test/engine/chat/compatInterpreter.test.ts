/** The llama.cpp leniencies added to @huggingface/jinja (src/engine/chat/compatInterpreter.ts). */
import { describe, expect, it } from "vitest";
import { parseTemplate, renderProgram } from "../../../src/engine/chat/jinjaRuntime.js";

const NOW = new Date(2024, 6, 26, 12, 0, 0);
const render = (source: string, context: Record<string, unknown> = {}): string => renderProgram(parseTemplate(source), context, NOW);

describe("undefined and none, as llama.cpp's Jinja engine", () => {
  it("iterates an undefined value as an empty list (the else branch runs)", () => {
    expect(render("{% for t in tools %}[{{ t }}]{% else %}none{% endfor %}")).toBe("none");
    expect(render("{% for t in tools if t %}[{{ t }}]{% endfor %}.")).toBe(".");
    expect(render("{% for t in tools %}[{{ t }}]{% endfor %}", { tools: ["a", "b"] })).toBe("[a][b]");
  });

  it("still rejects iterating none, as llama.cpp does", () => {
    expect(() => render("{% for t in tools %}{% endfor %}", { tools: null })).toThrow(expect.objectContaining({ code: "RENDER_FAILED" }));
  });

  it("gives llama.cpp's empty values for filters on undefined", () => {
    expect(render("{{ tools | length }}")).toBe("0");
    expect(render("{{ tools | selectattr('type', 'equalto', 'x') | list | length }}")).toBe("0");
    expect(render("[{{ missing | join(', ') }}][{{ missing | upper }}][{{ missing | first }}][{{ missing | trim }}]")).toBe("[][][][]");
    expect(render("{{ missing | default('fallback') }}")).toBe("fallback");
  });

  it("gives llama.cpp's values for filters on none", () => {
    expect(render("{{ tools | selectattr('type', 'equalto', 'x') | list | length }}", { tools: null })).toBe("0");
    expect(render("{{ value | string }}", { value: null })).toBe("None");
  });

  it("concatenates none and undefined with strings as empty text", () => {
    expect(render("{{ 'a' + missing + 'b' }}")).toBe("ab");
    expect(render("{{ 'a' + value }}|{{ value ~ 'b' }}", { value: null })).toBe("a|b");
    expect(render("{{ 1 + 2 }} {{ [1] + [2] }} {{ 'x' ~ 3 }}")).toBe("3 [1, 2] x3");
  });

  it("gives undefined for any member of undefined", () => {
    expect(render("[{{ missing[1] }}][{{ missing.a.b }}][{{ missing[0] or 'x' }}]")).toBe("[][][x]");
    expect(render("{{ 'sep: ' + special[1] }}")).toBe("sep: ");
    expect(render("{{ special[1] }}", { special: ["a", "b"] })).toBe("b");
  });

  it("has Python's str.format", () => {
    expect(render("{{ '<|tok{}|>'.format(suffix) }}", { suffix: ":v1" })).toBe("<|tok:v1|>");
    expect(render("{{ '{0}-{0}-{1} {{x}}'.format('a', 2) }}")).toBe("a-a-2 {x}");
    expect(() => render("{{ '{name}'.format('a') }}")).toThrow(expect.objectContaining({ code: "RENDER_FAILED" }));
  });

  it("does not support dict literals with integer keys (a documented limit)", () => {
    expect(() => render("{% set d = {0: 'a', 1: 'b'} %}{{ d[0] }}")).toThrow(expect.objectContaining({ code: "RENDER_FAILED" }));
  });
});

describe("Python values and methods, as llama.cpp's Jinja engine", () => {
  it("prints booleans as Python does", () => {
    expect(render("{{ flag }} {{ not flag }} {{ flag | string }} {{ 'x=' ~ flag }} {{ 'y=' + (not flag) }}", { flag: true })).toBe(
      "True False True x=True y=False",
    );
    expect(render("{{ flag | tojson }} {{ {'a': flag} | tojson }}", { flag: true })).toBe('true {"a": true}');
  });

  it("stringifies objects as JSON", () => {
    expect(render("{{ tool | string }}", { tool: { name: "f", strict: false } })).toBe('{"name": "f", "strict": false}');
  });

  it("has the min and max filters on lists", () => {
    expect(render("{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'a'] | min }} [{{ [] | max }}]")).toBe("1 3 a []");
  });

  it("unpacks tuples in loops and prints them as lists in JSON", () => {
    expect(render("{% for a, b in [('x', 1), ('y', 2)] %}{{ a }}{{ b }};{% endfor %}")).toBe("x1;y2;");
    expect(render("{{ ('a', 1) | tojson }}")).toBe('["a", 1]');
  });

  it("has list.append and list.pop, which change the list in place", () => {
    const template =
      "{% set ns = namespace(ids=[]) %}{% set _ = ns.ids.append('a') %}{% set _ = ns.ids.append('b') %}" +
      "{{ ns.ids | length }}{{ ns.ids.length }}:{{ ns.ids.pop(0) }}{{ ns.ids | tojson }}{{ ns.ids.pop() }}{{ ns.ids | length }}";
    expect(render(template)).toBe('22:a["b"]b0');
    expect(() => render("{{ [].pop() }}")).toThrow(expect.objectContaining({ code: "RENDER_FAILED" }));
  });
});

describe("globals", () => {
  it("has range, namespace and the Python spellings of the constants", () => {
    expect(render("{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(5, 1, -2) %}{{ i }}{% endfor %}")).toBe("012|53");
    expect(render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}")).toBe("6");
    expect(render("{% if True and not False and None is none and true and not false %}ok{% endif %}")).toBe("ok");
  });

  it("formats strftime_now with the injected clock", () => {
    expect(render("{{ strftime_now('%d %b %Y') }}")).toBe("26 Jul 2024");
  });

  it("lets the context override a global", () => {
    expect(render("{{ strftime_now('%Y') }}", { strftime_now: () => "fixed" })).toBe("fixed");
  });
});
