/**
 * The fallback for a model without a chat template: ChatML, as llama.cpp uses when
 * `tokenizer.chat_template` is absent (or when the template is named "chatml"):
 *
 *     <|im_start|>system\nYou are helpful.<|im_end|>\n
 *     <|im_start|>user\nHello<|im_end|>\n
 *     <|im_start|>assistant\n                      ← the generation prompt
 *
 * Nothing else: no BOS (the tokenizer adds it when the model wants one), no default system
 * message. Models that were not trained on ChatML will still follow it poorly.
 */

/** The name that selects ChatML explicitly, as in llama.cpp. */
export const CHATML_NAME = "chatml";

/** The ChatML fallback as a Jinja template (what llama.cpp renders for a model without one). */
export const CHATML_TEMPLATE = [
  "{%- for message in messages -%}",
  "{{- '<|im_start|>' ~ message.role ~ '\\n' ~ message.content ~ '<|im_end|>\\n' -}}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt -%}",
  "{{- '<|im_start|>assistant\\n' -}}",
  "{%- endif -%}",
].join("\n");

/** True when `template` means "no template of its own": absent, empty or "chatml". */
export function usesChatmlFallback(template: string | undefined): boolean {
  return template === undefined || template === "" || template === CHATML_NAME;
}
