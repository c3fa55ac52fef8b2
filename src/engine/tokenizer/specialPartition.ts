/**
 * Splitting special-token texts out of the input before tokenizing, like llama.cpp's
 * `tokenizer_st_partition`: for each special token (longest text first), every occurrence in
 * the remaining raw-text fragments becomes a token fragment. User-defined tokens are always
 * split out; control and unknown tokens only with `parseSpecial`.
 *
 * (llama.cpp's lstrip/rstrip attributes are only set by model-name heuristics — phi-3,
 * jina, modern-bert — and are not applied here.)
 */

import { TokenAttr } from "./tokenAttr.js";
import type { Vocab } from "./vocab.js";

export type Fragment = { readonly kind: "text"; readonly text: string } | { readonly kind: "token"; readonly id: number };

export function partitionSpecialTokens(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  if (text.length === 0) return [];
  let fragments: Fragment[] = [{ kind: "text", text }];
  const skipMask = TokenAttr.CONTROL | TokenAttr.UNKNOWN;
  for (const id of vocab.specialTokenIds) {
    if (!parseSpecial && vocab.attrs[id] & skipMask) continue;
    const special = vocab.texts[id];
    const nextFragments: Fragment[] = [];
    for (const fragment of fragments) {
      if (fragment.kind !== "text") {
        nextFragments.push(fragment);
        continue;
      }
      const raw = fragment.text;
      let from = 0;
      for (let match = raw.indexOf(special, from); match !== -1; match = raw.indexOf(special, from)) {
        if (match > from) nextFragments.push({ kind: "text", text: raw.slice(from, match) });
        nextFragments.push({ kind: "token", id });
        from = match + special.length;
      }
      if (from < raw.length) nextFragments.push({ kind: "text", text: raw.slice(from) });
    }
    fragments = nextFragments;
  }
  return fragments;
}
