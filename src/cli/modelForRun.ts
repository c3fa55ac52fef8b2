/**
 * `generate`'s model and context: the --model spec resolved (a path, a cached or built-in name,
 * or a source pulled now), and, unless -c is given, a context just large enough for the prompt
 * and --max-tokens (at most the model's own), so the KV cache the memory plan reserves is what
 * the run can use. The prompt is tokenized here for that (the header alone; cheap).
 */
import { openGgufHeader } from "../engine/gguf/header.js";
import { optionalNumber, optionalString } from "../engine/gguf/metadata.js";
import { loadTokenizer } from "../engine/tokenizer/index.js";
import { resolveModel } from "../store/resolveModel.js";
import { createProgressReporter } from "./downloadProgress.js";
import type { CliIo } from "./io.js";


export async function resolveForRun(flags: { model?: string; ctxSize?: number; maxTokens: number }, prompt: string, io: CliIo): Promise<{ path: string; contextSize: number | undefined }> {
  using progress = createProgressReporter({ tty: process.stderr.isTTY ? process.stderr : undefined, line: (text) => io.progress(text) });
  const resolved = await resolveModel(flags.model, {
    signal: io.signal,
    log: (line: string) => {
      progress.stop();
      io.progress(line);
    },
    onProgress: progress.onProgress,
  });
  progress.stop();
  if (resolved.source === "default") io.progress(`no --model given: using the built-in model ${resolved.name} (${resolved.path})`);
  if (flags.ctxSize !== undefined) return { path: resolved.path, contextSize: flags.ctxSize };
  return { path: resolved.path, contextSize: contextForPrompt(resolved.path, prompt, flags.maxTokens) };
}

/**
 * The prompt's tokens (counted with the file's own tokenizer) + maxTokens, at most the model's
 * `<arch>.context_length`; undefined when the header cannot tell (loading then reports what is wrong).
 */
function contextForPrompt(path: string, prompt: string, maxTokens: number): number | undefined {
  try {
    using file = openGgufHeader(path);
    const arch = optionalString(file, "general.architecture");
    const trained = arch === undefined ? undefined : optionalNumber(file, `${arch}.context_length`);
    const nPromptTokens = Math.max(1, loadTokenizer(file).encode(prompt, { addSpecial: true, parseSpecial: false }).length);
    return Math.min(trained ?? Infinity, nPromptTokens + maxTokens);
  } catch {
    return undefined;
  }
}
