/**
 * @huggingface/jinja's interpreter, made to behave like llama.cpp's Jinja engine
 * (`common/jinja/runtime.cpp`, `value.cpp`) where real chat templates rely on it.
 *
 * Templates are written for Python's jinja2, whose `Undefined` is an empty iterable of length
 * 0 and whose values print as Python prints them; llama.cpp follows that. The differences that
 * real templates (llama.cpp's models/templates) hit, each made to behave as in llama.cpp:
 *
 * | template code                           | @huggingface/jinja  | here (llama.cpp)              |
 * |-----------------------------------------|---------------------|-------------------------------|
 * | `{% for t in tools %}`, tools unset     | error               | no iteration (`else` runs)    |
 * | `tools \| length`, `x \| trim`, … on undefined | error        | 0, "", [] (per filter)        |
 * | `none \| selectattr(…)`, `none \| string` | error             | [], "None"                    |
 * | `undefined[1]`                          | error               | undefined                     |
 * | `'text' + none`, `'text' + undefined`   | error               | "text"                        |
 * | `{{ true }}`, `flag \| string`, `'a' ~ flag` | "true"         | "True" (Python)               |
 * | `obj \| string`                         | error               | JSON (as `tojson`)            |
 * | `list \| min`, `list \| max`            | error               | the smallest / largest item   |
 * | `for a, b in [(1, 2)]` (tuples)         | error               | unpacks                       |
 * | `'<x{}>'.format(y)`, `list.append(x)`, `list.pop(0)` | not a function | Python's methods   |
 *
 * Not covered: dict literals with integer keys (`{0: 0, 512: 128}`): @huggingface/jinja objects
 * have string keys only, so such a template fails with RENDER_FAILED.
 *
 * The methods extended here are private in the package's typings (0.5.x); they are declared
 * below as `InterpreterInternals`. The template tests (every template of llama.cpp's
 * models/templates) fail if an update of the package changes them.
 */
import { Interpreter, type Environment, type Template } from "@huggingface/jinja";
import {
  jinjaList,
  jinjaValue,
  METHOD_NAMES,
  METHODS,
  minMax,
  NONE_FILTERS,
  pythonBoolean,
  UNDEFINED_FILTERS,
  type JinjaValue,
} from "./compatValues.js";

/** A parsed template. */
export type JinjaProgram = Template["parsed"];

interface Node {
  readonly type: string;
}
interface ForNode extends Node {
  readonly iterable: Node;
}
interface SelectNode extends Node {
  readonly lhs: Node;
}
interface BinaryNode extends Node {
  readonly operator: { readonly value: string };
  readonly left: Node;
  readonly right: Node;
}
interface MemberNode extends Node {
  readonly object: Node;
  readonly property: Node & { readonly value?: unknown };
  readonly computed: boolean;
}
interface CallNode extends Node {
  readonly callee: Node;
  readonly args: readonly Node[];
}
interface TupleNode extends Node {
  readonly value: readonly Node[];
}
/** A node standing for a value already computed (so that an operand is evaluated once). */
interface PrecomputedNode extends Node {
  readonly type: "Precomputed";
  readonly value: JinjaValue;
}
/** A node that evaluates `inner` and turns an undefined result into an empty list. */
interface UndefinedAsEmptyNode extends Node {
  readonly type: "UndefinedAsEmpty";
  readonly inner: Node;
}

/** The (TypeScript-private) methods of @huggingface/jinja's Interpreter that are extended. */
interface InterpreterInternals {
  run(program: JinjaProgram): JinjaValue;
  evaluate(node: Node | undefined, environment: Environment): JinjaValue;
  renderBlock(statements: readonly Node[], environment: Environment): string;
  renderFor(node: ForNode, environment: Environment): string;
  applyFilter(operand: JinjaValue, filter: Node, environment: Environment): JinjaValue;
  evaluateBinaryExpression(node: BinaryNode, environment: Environment): JinjaValue;
  evaluateMemberExpression(node: MemberNode, environment: Environment): JinjaValue;
  evaluateCallExpression(node: CallNode, environment: Environment): JinjaValue;
}

const InterpreterBase = Interpreter as unknown as new (environment: Environment) => InterpreterInternals;

/** Statements renderBlock renders itself; any other node is an expression whose value is printed. */
const BLOCK_STATEMENTS: ReadonlySet<string> = new Set(["StringLiteral", "If", "For", "Set", "Comment"]);

const isNothing = (value: JinjaValue): boolean => value.type === "UndefinedValue" || value.type === "NullValue";
const precomputed = (value: JinjaValue): PrecomputedNode => ({ type: "Precomputed", value });
const identifier = (value: string): Node & { value: string } => ({ type: "Identifier", value });

function filterName(filter: Node): string | undefined {
  if (filter.type === "Identifier") return (filter as Node & { value: string }).value;
  if (filter.type === "CallExpression") {
    const callee = (filter as CallNode).callee;
    if (callee.type === "Identifier") return (callee as Node & { value: string }).value;
  }
  return undefined;
}

/** @huggingface/jinja's Interpreter with llama.cpp's behaviour for the cases in the table above. */
export class CompatInterpreter extends InterpreterBase {
  override evaluate(node: Node | undefined, environment: Environment): JinjaValue {
    switch (node?.type) {
      case "Precomputed":
        return (node as PrecomputedNode).value;
      case "UndefinedAsEmpty": {
        const value = this.evaluate((node as UndefinedAsEmptyNode).inner, environment);
        return value.type === "UndefinedValue" ? jinjaValue([]) : value;
      }
      case "TupleLiteral": // a list, so that loops unpack it and tojson prints it
        return jinjaList((node as TupleNode).value.map((item) => this.evaluate(item, environment)));
      default:
        return super.evaluate(node, environment);
    }
  }

  /** Prints booleans as Python does; everything else as @huggingface/jinja does. */
  override renderBlock(statements: readonly Node[], environment: Environment): string {
    let result = "";
    for (const statement of statements) {
      if (BLOCK_STATEMENTS.has(statement.type)) {
        result += super.renderBlock([statement], environment);
        continue;
      }
      const value = this.evaluate(statement, environment);
      if (!isNothing(value)) result += pythonBoolean(value) ?? String(value);
    }
    return result;
  }

  /** `for x in undefined` runs no iteration (jinja2, llama.cpp). */
  override renderFor(node: ForNode, environment: Environment): string {
    const asEmpty = (inner: Node): UndefinedAsEmptyNode => ({ type: "UndefinedAsEmpty", inner });
    const iterable: Node =
      node.iterable.type === "SelectExpression"
        ? ({ ...node.iterable, lhs: asEmpty((node.iterable as SelectNode).lhs) } as SelectNode)
        : asEmpty(node.iterable);
    return super.renderFor({ ...node, iterable } as ForNode, environment);
  }

  /** Filters on undefined and none give llama.cpp's values; `string`, `min`, `max` as llama.cpp. */
  override applyFilter(operand: JinjaValue, filter: Node, environment: Environment): JinjaValue {
    const name = filterName(filter);
    const table = operand.type === "UndefinedValue" ? UNDEFINED_FILTERS : operand.type === "NullValue" ? NONE_FILTERS : undefined;
    if (table !== undefined && name !== undefined && table.has(name)) return jinjaValue(table.get(name));
    if (name === "string" || name === "safe") {
      const text = pythonBoolean(operand);
      if (text !== undefined) return jinjaValue(text);
    }
    if (name === "string" && operand.type === "ObjectValue") return super.applyFilter(operand, identifier("tojson"), environment);
    if ((name === "min" || name === "max") && (operand.type === "ArrayValue" || operand.type === "TupleValue")) {
      return minMax(operand.value as JinjaValue[], name);
    }
    return super.applyFilter(operand, filter, environment);
  }

  /** `+` and `~` with a string: none and undefined count as "", booleans as "True"/"False". */
  override evaluateBinaryExpression(node: BinaryNode, environment: Environment): JinjaValue {
    const operator = node.operator.value;
    if (operator !== "+" && operator !== "~") return super.evaluateBinaryExpression(node, environment);
    const left = this.evaluate(node.left, environment);
    const right = this.evaluate(node.right, environment);
    const stringWith = (other: JinjaValue): boolean => isNothing(other) || other.type === "BooleanValue";
    if ((left.type === "StringValue" && stringWith(right)) || (right.type === "StringValue" && stringWith(left))) {
      const text = (value: JinjaValue): string => (isNothing(value) ? "" : (pythonBoolean(value) ?? String(value.value)));
      return jinjaValue(text(left) + text(right));
    }
    return super.evaluateBinaryExpression({ ...node, left: precomputed(left), right: precomputed(right) }, environment);
  }

  /** Any member of undefined is undefined (`x.y` already is in @huggingface/jinja; `x[1]` is not). */
  override evaluateMemberExpression(node: MemberNode, environment: Environment): JinjaValue {
    const object = this.evaluate(node.object, environment);
    if (object.type === "UndefinedValue") return object;
    return super.evaluateMemberExpression({ ...node, object: precomputed(object) }, environment);
  }

  /** Python methods @huggingface/jinja lacks: `str.format`, `list.append`, `list.pop`. */
  override evaluateCallExpression(node: CallNode, environment: Environment): JinjaValue {
    const callee = node.callee as MemberNode;
    const name = callee.property?.value;
    if (callee.type !== "MemberExpression" || callee.computed || typeof name !== "string" || !METHOD_NAMES.has(name)) {
      return super.evaluateCallExpression(node, environment);
    }
    const object = this.evaluate(callee.object, environment);
    const method = METHODS[object.type]?.[name];
    if (method === undefined) {
      return super.evaluateCallExpression({ ...node, callee: { ...callee, object: precomputed(object) } as MemberNode }, environment);
    }
    return method(object, node.args.map((arg) => this.evaluate(arg, environment)));
  }
}
