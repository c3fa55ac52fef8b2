/** Hand-built vocabularies for the tokenizer unit tests. */
import { GgufTokenType } from "../../../src/engine/tokenizer/tokenAttr.js";
import type { VocabSpec } from "../../../src/engine/tokenizer/vocab.js";

export interface TinyToken {
  readonly text: string;
  readonly score?: number;
  readonly type?: number;
}

export function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/**
 * SPM vocabulary: 0 <unk>, 1 <s>, 2 </s>, then (with `byteFallback`) the 256 byte tokens at
 * 3..258, then `pieces` in order. Returns the spec and an id lookup by text.
 */
export function spmVocab(
  pieces: readonly TinyToken[],
  options: { byteFallback?: boolean } & Partial<VocabSpec> = {},
): { spec: VocabSpec; id: (text: string) => number } {
  const { byteFallback = true, ...rest } = options;
  const all: TinyToken[] = [
    { text: "<unk>", type: GgufTokenType.UNKNOWN },
    { text: "<s>", type: GgufTokenType.CONTROL },
    { text: "</s>", type: GgufTokenType.CONTROL },
  ];
  if (byteFallback) for (let b = 0; b < 256; b++) all.push({ text: byteTokenText(b), type: GgufTokenType.BYTE });
  all.push(...pieces);
  const spec: VocabSpec = {
    model: "llama",
    tokens: all.map((t) => t.text),
    scores: all.map((t) => t.score ?? 0),
    tokenTypes: all.map((t) => t.type ?? GgufTokenType.NORMAL),
    ...rest,
  };
  return { spec, id: idLookup(spec.tokens) };
}

export function idLookup(tokens: readonly string[]): (text: string) => number {
  return (text: string) => {
    const id = tokens.lastIndexOf(text);
    if (id < 0) throw new Error(`no token ${JSON.stringify(text)} in the test vocabulary`);
    return id;
  };
}
