/**
 * Special-token detection by token text, as llama.cpp does it after loading the vocabulary
 * (`llama_vocab::impl::load`, "auto-detect special tokens by text"): EOT/EOM/FIM ids when the
 * metadata has none, the end-of-generation set, and the attribute fix-ups that come with them.
 */

import { TokenAttr } from "./tokenAttr.js";

export interface SpecialIds {
  bos: number | undefined;
  eos: number | undefined;
  eot: number | undefined;
  eom: number | undefined;
  unk: number | undefined;
  sep: number | undefined;
  pad: number | undefined;
  fimPre: number | undefined;
  fimSuf: number | undefined;
  fimMid: number | undefined;
  fimPad: number | undefined;
  fimRep: number | undefined;
  fimSep: number | undefined;
}

type DetectedKey = "eot" | "eom" | "fimPre" | "fimSuf" | "fimMid" | "fimPad" | "fimRep" | "fimSep";

const TEXTS_BY_SPECIAL: readonly (readonly [DetectedKey, readonly string[]])[] = [
  [
    "eot",
    [
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
      "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ],
  ],
  ["eom", ["<|eom_id|>"]],
  ["fimPre", ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]],
  ["fimSuf", ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]],
  ["fimMid", ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"]],
  ["fimPad", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]],
  ["fimRep", ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]],
  ["fimSep", ["<|file_sep|>"]],
];

const EOG_TEXTS: ReadonlySet<string> = new Set([
  "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
  "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
  "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
]);

/** gpt-oss: always rendered */
const FORCED_USER_DEFINED_TEXTS: ReadonlySet<string> = new Set(["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]);

/**
 * Fills undetected EOT/EOM/FIM ids, fixes attributes in place, and returns the EOG id set.
 * Where llama.cpp walks an unordered_map (so with several candidate texts the pick is
 * hash-order), this walks ids in increasing order.
 */
export function detectSpecialTokens(texts: readonly string[], attrs: Uint8Array, ids: SpecialIds): Set<number> {
  const idByText = new Map<string, number>();
  texts.forEach((text, id) => idByText.set(text, id));
  const promoteToControl = (id: number) => {
    attrs[id] |= TokenAttr.CONTROL;
  };

  for (const [key, candidates] of TEXTS_BY_SPECIAL) {
    if (ids[key] !== undefined) continue;
    let found: number | undefined;
    for (const text of candidates) {
      const id = idByText.get(text);
      if (id !== undefined && (found === undefined || id < found)) found = id;
    }
    if (found !== undefined) {
      ids[key] = found;
      promoteToControl(found);
    }
  }

  const eog = new Set<number>();
  for (const id of [ids.fimPad, ids.fimRep, ids.fimSep]) if (id !== undefined) eog.add(id);
  for (const [text, id] of idByText) {
    if (EOG_TEXTS.has(text)) {
      eog.add(id);
      promoteToControl(id);
    }
  }
  for (const [text, id] of idByText) {
    if (FORCED_USER_DEFINED_TEXTS.has(text)) attrs[id] = TokenAttr.USER_DEFINED;
  }
  for (const id of [ids.eos, ids.eot, ids.eom]) if (id !== undefined) eog.add(id);

  // o200k_harmony / solar-open: "<|end|>" is not EOG when "<|return|>"+"<|call|>" (or "<|calls|>"+"<|flush|>") exist
  const eogTexts = new Map<string, number>();
  for (const id of eog) if (id >= 0 && id < texts.length) eogTexts.set(texts[id], id);
  const endId = eogTexts.get("<|end|>");
  const hasCall = eogTexts.has("<|call|>") || eogTexts.has("<|calls|>");
  if (endId !== undefined && hasCall && (eogTexts.has("<|return|>") || eogTexts.has("<|flush|>"))) {
    eog.delete(endId);
    attrs[endId] = TokenAttr.USER_DEFINED;
  }
  // gemma4 / paddleocr: "</s>" is not EOG when "<|tool_response>" is
  const closeSId = eogTexts.get("</s>");
  if (closeSId !== undefined && eogTexts.has("<|tool_response>")) {
    eog.delete(closeSId);
    attrs[closeSId] = TokenAttr.NORMAL;
  }
  return eog;
}
