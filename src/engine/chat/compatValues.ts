/**
 * The values, filters and methods CompatInterpreter adds to @huggingface/jinja, as llama.cpp's
 * Jinja engine has them (`common/jinja/value.cpp`), which follows Python's jinja2.
 */
import { Environment } from "@huggingface/jinja";

/** A runtime value of @huggingface/jinja (`StringValue`, `ArrayValue`, …); its classes are not exported. */
export type JinjaValue = ReturnType<Environment["set"]>;

/** A JavaScript value (string, number, array, object, undefined, null) as a Jinja runtime value. */
export function jinjaValue(value: unknown): JinjaValue {
  return new Environment().set("value", value);
}

/** A list holding the given runtime values as they are (not converted again). */
export function jinjaList(items: JinjaValue[]): JinjaValue {
  const list = jinjaValue([]) as JinjaValue & { value: JinjaValue[] };
  list.value = items;
  return list;
}

const EMPTY_LIST: readonly never[] = [];

/**
 * Filters on an undefined operand: llama.cpp's `value_undefined_t` builtins, plus `trim`
 * (jinja2 trims the empty string).
 */
export const UNDEFINED_FILTERS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ...["capitalize", "join", "lower", "replace", "safe", "string", "strip", "title", "trim", "truncate", "upper"].map((f) => [f, ""] as const),
  ...["items", "list", "map", "reject", "rejectattr", "reverse", "select", "selectattr", "sort", "unique"].map((f) => [f, EMPTY_LIST] as const),
  ...["length", "sum", "wordcount"].map((f) => [f, 0] as const),
  ...["first", "last", "max", "min"].map((f) => [f, undefined] as const),
]);

/** Filters on a none operand: llama.cpp's `value_none_t` builtins. */
export const NONE_FILTERS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ...["items", "map", "reject", "rejectattr", "select", "selectattr", "unique"].map((f) => [f, EMPTY_LIST] as const),
  ["string", "None"],
  ["safe", "None"],
]);

/** Python's `str()` of a boolean ("True"/"False"); undefined for other values. */
export function pythonBoolean(value: JinjaValue): string | undefined {
  return value.type === "BooleanValue" ? (value.value ? "True" : "False") : undefined;
}

function compareScalars(a: JinjaValue, b: JinjaValue): number {
  const x = a.value as number | string;
  const y = b.value as number | string;
  if (typeof x !== typeof y) throw new Error(`cannot compare ${a.type} with ${b.type}`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `list | min` and `list | max` (numbers or strings); undefined for an empty list. */
export function minMax(list: readonly JinjaValue[], which: "min" | "max"): JinjaValue {
  if (list.length === 0) return jinjaValue(undefined);
  const sign = which === "min" ? 1 : -1;
  return list.reduce((best, item) => (sign * compareScalars(item, best) < 0 ? item : best));
}

/** Python's `str.format` with `{}` / `{0}` fields and `{{` `}}` escapes. */
function format(object: JinjaValue, args: readonly JinjaValue[]): JinjaValue {
  const template = String(object.value);
  let next = 0;
  const text = template.replace(/\{\{|\}\}|\{(\d*)\}|[{}]/g, (field: string, index: string | undefined) => {
    if (field === "{{") return "{";
    if (field === "}}") return "}";
    if (index === undefined) throw new Error(`format(): unsupported field in "${template}"`);
    const arg = args[index === "" ? next++ : Number(index)];
    if (arg === undefined) throw new Error(`format(): no argument for field ${field} in "${template}"`);
    return pythonBoolean(arg) ?? String(arg);
  });
  return jinjaValue(text);
}

/** Forget the list's cached builtins (its `length` attribute) after changing its items. */
function changed(list: JinjaValue): void {
  (list as unknown as { _builtins?: unknown })._builtins = undefined;
}

/** `list.append(x)`: in place, gives none. */
function append(list: JinjaValue, args: readonly JinjaValue[]): JinjaValue {
  if (args.length !== 1) throw new Error("append() takes exactly one argument");
  (list.value as JinjaValue[]).push(args[0]);
  changed(list);
  return jinjaValue(null);
}

/** `list.pop()` / `list.pop(i)`: removes and gives the item. */
function pop(list: JinjaValue, args: readonly JinjaValue[]): JinjaValue {
  const items = list.value as JinjaValue[];
  const index = args.length === 0 ? items.length - 1 : Number(args[0].value);
  const at = index < 0 ? items.length + index : index;
  if (!Number.isInteger(at) || at < 0 || at >= items.length) throw new Error("pop index out of range");
  const [item] = items.splice(at, 1);
  changed(list);
  return item;
}

/** A Python method: the receiver and the evaluated arguments give the result. */
export type JinjaMethod = (object: JinjaValue, args: readonly JinjaValue[]) => JinjaValue;

/** Python methods @huggingface/jinja lacks, by receiver type and name. */
export const METHODS: Readonly<Record<string, Readonly<Record<string, JinjaMethod>>>> = {
  StringValue: { format },
  ArrayValue: { append, pop },
};

/** The method names of METHODS, for a quick check of a call's callee. */
export const METHOD_NAMES: ReadonlySet<string> = new Set(Object.values(METHODS).flatMap((methods) => Object.keys(methods)));
