/**
 * `hf:owner/repo[:QUANT]`: list the repository's files through the Hugging Face API
 * (`GET {endpoint}/api/models/{owner}/{repo}` → `siblings[].rfilename`) and pick the .gguf
 * for the quantization, as llama.cpp's `-hf owner/repo:quant` does.
 */
import type { Dispatcher } from "undici";
import { StoreError, reasonOf } from "./errors.js";
import { getFollowingRedirects, throwForStatus } from "./http.js";
import { SPLIT_PART } from "./source.js";

/** The quantization picked when the source names none (llama.cpp's default). */
export const DEFAULT_QUANT = "Q4_K_M";
const MAX_LISTED_FILES = 12;

export interface HfContext {
  readonly endpoint: string;
  readonly token?: string;
  readonly dispatcher: Dispatcher;
  readonly signal?: AbortSignal;
}

/** Every file path in the repository's main branch. */
export async function listRepoFiles(repoId: string, context: HfContext): Promise<string[]> {
  const url = `${context.endpoint}/api/models/${repoId}`;
  const response = await getFollowingRedirects(url, {
    dispatcher: context.dispatcher,
    authOrigin: new URL(context.endpoint).origin,
    token: context.token,
    headers: { accept: "application/json" },
    signal: context.signal,
  });
  if (response.statusCode === 404) {
    await response.body.dump().catch(() => undefined);
    throw new StoreError("NOT_FOUND", `Hugging Face repository ${repoId} not found (HTTP 404 from ${url})`);
  }
  if (response.statusCode !== 200) return throwForStatus(response, true, context.token !== undefined);
  let info: unknown;
  try {
    info = await response.body.json();
  } catch (error) {
    throw new StoreError("HTTP_STATUS", `cannot read the file list of ${repoId} from ${url}: ${reasonOf(error)}`, { cause: error });
  }
  const siblings = (info as { siblings?: unknown }).siblings;
  if (!Array.isArray(siblings)) throw new StoreError("HTTP_STATUS", `the answer of ${url} has no "siblings" file list`);
  return siblings.map((s: { rfilename?: unknown }) => s?.rfilename).filter((name): name is string => typeof name === "string");
}

/**
 * The .gguf to download for `quant` (case-insensitive; a file whose name holds the tag as a
 * whole word wins over one that merely contains it), skipping `mmproj` projector files and
 * preferring one file over split parts. No quant: Q4_K_M if there is one, else the first .gguf.
 */
export function pickGgufFile(filePaths: readonly string[], quant: string | undefined, repoId: string): string {
  const ggufs = filePaths.filter((p) => /\.gguf$/i.test(p) && !/mmproj/i.test(baseName(p)));
  if (ggufs.length === 0) throw new StoreError("NO_MATCHING_FILE", `Hugging Face repository ${repoId} has no .gguf model file`);
  let candidates: string[];
  if (quant !== undefined) {
    candidates = matching(ggufs, quant);
    if (candidates.length === 0) {
      throw new StoreError("NO_MATCHING_FILE", `Hugging Face repository ${repoId} has no .gguf file matching "${quant}"; it has: ${listNames(ggufs)}`);
    }
  } else {
    const defaults = matching(ggufs, DEFAULT_QUANT);
    candidates = defaults.length > 0 ? defaults : ggufs;
  }
  const single = candidates.find((p) => !SPLIT_PART.test(p));
  if (single !== undefined) return single;
  const tag = quant ?? (candidates === ggufs ? "any quantization" : DEFAULT_QUANT);
  throw new StoreError(
    "SPLIT_NOT_SUPPORTED",
    `hf:${repoId} has ${tag} only as a split model (${baseName(candidates[0])} …); split GGUF files are not supported yet — pick a quantization that is one file: ${listNames(ggufs.filter((p) => !SPLIT_PART.test(p))) || "(none)"}`,
  );
}

/** Files holding the tag: whole-word matches if any, else any that contain it. */
function matching(paths: readonly string[], quant: string): string[] {
  const tag = quant.toLowerCase();
  const containing = paths.filter((p) => p.toLowerCase().includes(tag));
  const word = new RegExp(`(^|[^a-z0-9])${tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![a-z0-9_])`);
  const whole = containing.filter((p) => word.test(p.toLowerCase()));
  return whole.length > 0 ? whole : containing;
}

function listNames(paths: readonly string[]): string {
  const names = paths.slice(0, MAX_LISTED_FILES).map(baseName);
  return paths.length > MAX_LISTED_FILES ? `${names.join(", ")} … (${paths.length} files)` : names.join(", ");
}

function baseName(filePath: string): string {
  return filePath.slice(filePath.lastIndexOf("/") + 1);
}
