/** Where a command writes: injected so commands run the same in tests and in the terminal. */
export interface CliIo {
  /** generated text (stdout) */
  writeOut(text: string): void;
  /** raw stderr */
  writeErr(text: string): void;
  /** one progress line on stderr */
  progress(line: string): void;
  /** aborted on Ctrl-C */
  readonly signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  return {
    writeOut: (text) => {
      // once stdout has gone (EPIPE: the reader closed it) there is nobody to write to
      if (text && !process.stdout.destroyed) process.stdout.write(text);
    },
    writeErr: (text) => process.stderr.write(text),
    progress: (line) => process.stderr.write(`layerstream: ${line}\n`),
    signal,
  };
}
