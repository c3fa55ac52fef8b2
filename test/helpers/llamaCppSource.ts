/**
 * Files of llama.cpp's source tree, for tests that compare against llama.cpp's own test data
 * (never its code). They come from the git bundle node-llama-cpp (a devDependency) ships in
 * node_modules/node-llama-cpp/llama/gitRelease.bundle — no network.
 *
 * On first use each set of wanted paths is extracted into its folder under
 * node_modules/.cache/layerstream-llama-src/: <commit>/ for the chat templates, <commit>-vocabs/
 * for the tokenizer test vocabularies (a temporary bare clone of the bundle feeds one
 * `git cat-file --batch`); later runs reuse that folder. A missing bundle or git
 * throws: the test fails with the reason, it is never skipped.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const LLAMA_CPP_BUNDLE = path.resolve(process.cwd(), "node_modules/node-llama-cpp/llama/gitRelease.bundle");
export const LLAMA_CPP_CACHE = path.resolve(process.cwd(), "node_modules/.cache/layerstream-llama-src");

/** A set of files extracted together into its own cache folder. */
interface SourceSet {
  /** suffix of its cache folder: <commit>-<folder> ("" = the <commit> folder itself) */
  readonly folder: string;
  /** tree paths (folders or files) to list */
  readonly roots: readonly string[];
  /** which of the listed files to extract */
  readonly select: (paths: readonly string[]) => string[];
}

/** The chat templates and the chat-template test. */
const CHAT_SET: SourceSet = {
  folder: "",
  roots: ["models/templates", "tests/test-chat-template.cpp"],
  select: (paths) => [...paths],
};

const VOCAB_FILE = /^models\/ggml-vocab-[^/]+\.gguf$/;

/** llama.cpp's tokenizer test vocabularies (models/ggml-vocab-*.gguf) that have .inp/.out vectors, with them. */
const VOCAB_SET: SourceSet = {
  folder: "vocabs",
  roots: ["models"],
  select: (paths) => {
    const present = new Set(paths);
    return paths
      .filter((file) => VOCAB_FILE.test(file) && present.has(`${file}.inp`) && present.has(`${file}.out`))
      .flatMap((file) => [file, `${file}.inp`, `${file}.out`]);
  },
};
const COMPLETE_MARKER = ".complete";

function git(args: readonly string[], input?: string): Buffer {
  try {
    return execFileSync("git", args, { input, maxBuffer: 256 * 1024 * 1024, stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`git ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
  }
}

/** The commit a bundle holds (its HEAD). Throws, saying what to do, when the bundle is missing. */
export function llamaCppBundleCommit(bundle: string = LLAMA_CPP_BUNDLE): string {
  if (!fs.existsSync(bundle)) {
    throw new Error(
      `llama.cpp source bundle not found at ${bundle}: the chat template and tokenizer tests read llama.cpp's ` +
        "templates, test vocabularies and expected results from it (it ships with the devDependency node-llama-cpp; run npm install)",
    );
  }
  const heads = git(["bundle", "list-heads", bundle]).toString();
  const commit = /^([0-9a-f]{40}) HEAD$/m.exec(heads)?.[1] ?? /^([0-9a-f]{40}) /m.exec(heads)?.[1];
  if (commit === undefined) throw new Error(`no commit in ${bundle} (git bundle list-heads: ${heads.trim()})`);
  return commit;
}

/** Parses `git cat-file --batch` output into the files it holds. */
function splitBatch(output: Buffer, paths: readonly string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  for (const file of paths) {
    const headerEnd = output.indexOf(0x0a, offset);
    const header = output.subarray(offset, headerEnd).toString();
    const size = Number(/^[0-9a-f]+ blob (\d+)$/.exec(header)?.[1]);
    if (!Number.isInteger(size)) throw new Error(`git cat-file: unexpected header "${header}" for ${file}`);
    files.set(file, output.subarray(headerEnd + 1, headerEnd + 1 + size));
    offset = headerEnd + 1 + size + 1;
  }
  return files;
}

function extract(commit: string, into: string, set: SourceSet): void {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-llama-src-"));
  try {
    const repo = path.join(scratch, "repo.git");
    git(["clone", "--quiet", "--bare", LLAMA_CPP_BUNDLE, repo]);
    const listed = git(["--git-dir", repo, "ls-tree", "-r", "--name-only", commit, "--", ...set.roots])
      .toString()
      .split("\n")
      .filter((line) => line !== "");
    const paths = set.select(listed);
    if (paths.length === 0) throw new Error(`none of the wanted files under ${set.roots.join(", ")} is in llama.cpp commit ${commit}`);
    const batch = git(["--git-dir", repo, "cat-file", "--batch"], paths.map((p) => `${commit}:${p}\n`).join(""));
    for (const [file, bytes] of splitBatch(batch, paths)) {
      fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
      fs.writeFileSync(path.join(into, file), bytes);
    }
    fs.writeFileSync(path.join(into, COMPLETE_MARKER), `${commit}\n`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const sourceDirs = new Map<SourceSet, string>();

/** The folder holding the extracted llama.cpp files of `set` (extracting them on first use). */
function extractedDir(set: SourceSet): string {
  const known = sourceDirs.get(set);
  if (known !== undefined) return known;
  const commit = llamaCppBundleCommit();
  const dir = set.folder === "" ? path.join(LLAMA_CPP_CACHE, commit) : path.join(LLAMA_CPP_CACHE, `${commit}-${set.folder}`);
  if (!fs.existsSync(path.join(dir, COMPLETE_MARKER))) {
    // extract beside, then rename: test files running in parallel never see a half-written folder
    fs.mkdirSync(LLAMA_CPP_CACHE, { recursive: true });
    const partial = fs.mkdtempSync(path.join(LLAMA_CPP_CACHE, `${commit}.partial-`));
    try {
      extract(commit, partial, set);
      fs.renameSync(partial, dir);
    } catch (error) {
      fs.rmSync(partial, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, COMPLETE_MARKER))) throw error; // else another process won the race
    }
  }
  sourceDirs.set(set, dir);
  return dir;
}

/** The folder holding the extracted chat templates and chat-template test (extracting them on first use). */
export function llamaCppSourceDir(): string {
  return extractedDir(CHAT_SET);
}

/** A file of llama.cpp's tree, e.g. "tests/test-chat-template.cpp". */
export function llamaCppFile(relativePath: string): string {
  return fs.readFileSync(path.join(llamaCppSourceDir(), relativePath), "utf8");
}

export interface LlamaCppChatTemplate {
  /** file name, e.g. "Qwen-Qwen3-0.6B.jinja" */
  readonly name: string;
  readonly source: string;
}

/** Every models/templates/*.jinja, by file name. */
export function llamaCppChatTemplates(): LlamaCppChatTemplate[] {
  const dir = path.join(llamaCppSourceDir(), "models/templates");
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".jinja"))
    .sort()
    .map((name) => ({ name, source: fs.readFileSync(path.join(dir, name), "utf8") }));
}

export interface LlamaCppVocabFixture {
  /** e.g. "llama-spm" (from models/ggml-vocab-llama-spm.gguf) */
  readonly name: string;
  /** path of the vocab-only GGUF file */
  readonly ggufPath: string;
  /** path of its .inp file (inputs) and .out file (expected ids, one line per input) */
  readonly inpPath: string;
  readonly outPath: string;
}

/** Every models/ggml-vocab-*.gguf of the bundle that has .inp/.out test vectors, by name. */
export function llamaCppVocabFixtures(): LlamaCppVocabFixture[] {
  const dir = path.join(extractedDir(VOCAB_SET), "models");
  return fs
    .readdirSync(dir)
    .filter((file) => /^ggml-vocab-.+\.gguf$/.test(file))
    .sort()
    .map((file) => ({
      name: file.slice("ggml-vocab-".length, -".gguf".length),
      ggufPath: path.join(dir, file),
      inpPath: path.join(dir, `${file}.inp`),
      outPath: path.join(dir, `${file}.out`),
    }));
}
