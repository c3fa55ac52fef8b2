/**
 * Incremental detokenization for printing generated tokens: each push returns only complete
 * UTF-8 characters, so a character split over several byte tokens prints once, when its last
 * byte arrives. Bytes that can never form a character print as U+FFFD as soon as that is known;
 * an incomplete character left at the end prints as U+FFFD on flush().
 *
 * By default nothing is stripped: the output is the continuation of earlier text (a prompt),
 * and pieces are concatenated as llama.cpp's `token_to_piece` gives them.
 */

import type { PieceOptions, Tokenizer } from "./Tokenizer.js";

export interface StreamingDecoderOptions extends PieceOptions {
  /** drop one leading space from the first token's piece (as when decoding a text from its start); default false */
  readonly removeLeadingSpace?: boolean;
}

export class StreamingDecoder {
  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  private stripNextSpace: boolean;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: StreamingDecoderOptions = {},
  ) {
    this.stripNextSpace = options.removeLeadingSpace ?? false;
  }

  /** The text that token `id` completes (possibly ""). */
  push(id: number): string {
    let piece = this.tokenizer.tokenPiece(id, this.options);
    if (this.stripNextSpace) {
      this.stripNextSpace = false;
      if (piece[0] === 0x20) piece = piece.subarray(1);
    }
    return this.utf8.decode(piece, { stream: true });
  }

  /** Whatever is still held (an incomplete character → U+FFFD); the decoder can then be reused. */
  flush(): string {
    return this.utf8.decode();
  }
}
