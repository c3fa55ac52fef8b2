/**
 * Turning the fragments of a text (raw text between special tokens, and the special tokens
 * themselves) into token ids, per tokenizer type, as the branches of llama.cpp's
 * `llama_vocab::impl::tokenize` do: SentencePiece puts a space in front of text that starts the
 * input or follows a special token and escapes spaces as "▁"; BPE and WordPiece tokenize every
 * text fragment on its own.
 */

import { BpeTokenizer } from "./bpe.js";
import type { Fragment } from "./specialPartition.js";
import { SpmTokenizer } from "./spm.js";
import type { TokenizerType, Vocab } from "./vocab.js";
import { WpmTokenizer } from "./wpm.js";

/** Appends the ids of the fragments of one text to `output`. */
export type FragmentEncoder = (fragments: readonly Fragment[], output: number[]) => void;

interface TextTokenizer {
  tokenize(text: string, output: number[]): void;
}

const SPACE_ESCAPE = "\u2581";

function spmFragmentEncoder(vocab: Vocab): FragmentEncoder {
  const spm = new SpmTokenizer(vocab);
  return (fragments, output) => {
    let isPrevSpecial = true; // the first fragment gets the space prefix too
    for (const fragment of fragments) {
      if (fragment.kind === "token") {
        output.push(fragment.id);
        isPrevSpecial = true;
        continue;
      }
      const prefixed = vocab.addSpacePrefix && isPrevSpecial ? " " + fragment.text : fragment.text;
      spm.tokenize(prefixed.replaceAll(" ", SPACE_ESCAPE), output);
      isPrevSpecial = false;
    }
  };
}

function eachFragmentEncoder(tokenizer: TextTokenizer): FragmentEncoder {
  return (fragments, output) => {
    for (const fragment of fragments) {
      if (fragment.kind === "token") output.push(fragment.id);
      else tokenizer.tokenize(fragment.text, output);
    }
  };
}

const FRAGMENT_ENCODERS: Readonly<Record<TokenizerType, (vocab: Vocab) => FragmentEncoder>> = {
  spm: spmFragmentEncoder,
  bpe: (vocab) => eachFragmentEncoder(new BpeTokenizer(vocab)),
  wpm: (vocab) => eachFragmentEncoder(new WpmTokenizer(vocab)),
};

/** The fragment encoder of a vocabulary's tokenizer type. */
export function fragmentEncoder(vocab: Vocab): FragmentEncoder {
  return FRAGMENT_ENCODERS[vocab.type](vocab);
}
