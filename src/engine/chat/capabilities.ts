/**
 * What a template can render, found by rendering probe conversations — the questions llama.cpp
 * asks in `common/jinja/caps.cpp`. llama.cpp watches which input values the template reads;
 * @huggingface/jinja cannot, so a probe here asks whether a marker value reaches the output.
 */

/** What a template does with its input, as far as preparing messages for it is concerned. */
export interface TemplateCapabilities {
  /** renders the content of a leading system message (else it is merged into the next message) */
  readonly systemRole: boolean;
  /** renders `content` given as a string */
  readonly stringContent: boolean;
  /** renders `content` given as `[{ type: "text", text }]` */
  readonly typedContent: boolean;
  /**
   * renders tool-call arguments given as an object (`arguments | tojson`, `arguments.items()`);
   * string arguments are then parsed into objects, as llama.cpp does
   */
  readonly objectArguments: boolean;
}

/** Renders a probe context; undefined when the template fails on it. */
export type ProbeRenderer = (context: Readonly<Record<string, unknown>>) => string | undefined;

const MARKER = "LAYERSTREAM_PROBE_MARKER";

const PROBE_TOOLS = [
  {
    type: "function",
    function: {
      name: "tool1",
      description: "Tool description",
      parameters: {
        type: "object",
        properties: { arg: { type: "string", description: "Arg description" } },
        required: ["arg"],
      },
    },
  },
];

function toolConversation(args: unknown): unknown[] {
  return [
    { role: "user", content: "User message" },
    {
      role: "assistant",
      content: "",
      tool_calls: [{ id: "call00001", type: "function", function: { name: "tool1", arguments: args } }],
    },
    { role: "tool", content: "Tool response", tool_call_id: "call00001" },
    { role: "assistant", content: "The tool response was 'tool response'" },
    { role: "user", content: "User message" },
  ];
}

/** Probes `render` (a template) with llama.cpp's capability conversations. */
export function probeCapabilities(render: ProbeRenderer): TemplateCapabilities {
  const probe = (messages: unknown[], tools?: unknown[]): string =>
    render({ messages, bos_token: "", eos_token: "", add_generation_prompt: true, ...(tools ? { tools } : {}) }) ?? "";
  const reaches = (messages: unknown[]): boolean => probe(messages).includes(MARKER);

  const systemRole = reaches([
    { role: "system", content: MARKER },
    { role: "user", content: "User message" },
  ]);
  const stringContent = reaches([{ role: "user", content: MARKER }]);
  const typedContent = reaches([{ role: "user", content: [{ type: "text", text: MARKER }] }]);
  const objectArguments = probe(toolConversation({ arg: MARKER }), PROBE_TOOLS).includes(MARKER);
  return { systemRole, stringContent, typedContent, objectArguments };
}
