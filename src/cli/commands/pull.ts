import { Command } from "commander";
import { AbortError } from "../../engine/errors.js";
import { createProgressReporter } from "../downloadProgress.js";
import { pullModel } from "../../store/pull.js";
import { DEFAULT_RETRIES } from "../../store/download.js";
import { parseIntInRange } from "../options.js";
import type { CliIo } from "../io.js";

interface PullFlags {
  sha256?: string;
  retries: number;
}

/** `layerstream pull SOURCE`: downloads a model into the cache; stdout gets its path. */
export function pullCommand(io: CliIo): Command {
  return new Command("pull")
    .description("download a GGUF model into the model cache (an interrupted download resumes); prints the file's path")
    .argument("<source>", "https://…/file.gguf, hf:owner/repo/file.gguf or hf:owner/repo[:QUANT] (default quant Q4_K_M)")
    .option("--sha256 <hex>", "expected sha256 of the file (Hugging Face's own is checked without it)")
    .option("--retries <n>", "times to resume after a dropped connection", parseIntInRange(0, 100), DEFAULT_RETRIES)
    .action(async (source: string, flags: PullFlags) => {
      using progress = createProgressReporter({ tty: process.stderr.isTTY ? process.stderr : undefined, line: (text) => io.progress(text) });
      const log = (line: string) => {
        progress.stop();
        io.progress(line);
      };
      try {
        const result = await pullModel(source, { signal: io.signal, sha256: flags.sha256, nRetries: flags.retries, onProgress: progress.onProgress, log });
        io.writeOut(`${result.path}\n`);
      } catch (error) {
        // the CLI exits quietly on Ctrl-C: say here what was kept
        if (error instanceof AbortError) log(error.message);
        throw error;
      }
    });
}
