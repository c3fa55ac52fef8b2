/**
 * A SOURCE of `layerstream pull`: an http(s) URL of a .gguf file, `hf:owner/repo/path/file.gguf`,
 * or `hf:owner/repo[:QUANT]` (a quantization picked from the repository's file list, as
 * llama.cpp's `-hf owner/repo:quant`).
 */
import { StoreError } from "./errors.js";

export type ModelSource =
  | { readonly kind: "url"; readonly text: string; readonly url: string; readonly fileName: string }
  | { readonly kind: "hf-file"; readonly text: string; readonly repoId: string; readonly filePath: string; readonly fileName: string }
  | { readonly kind: "hf-repo"; readonly text: string; readonly repoId: string; readonly quant: string | undefined };

/** `-00001-of-00003.gguf`: one part of a model split over several files. */
export const SPLIT_PART = /-\d{5}-of-\d{5}\.gguf$/i;

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const QUANT_TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SOURCE_FORMS = "an https:// URL of a .gguf file, hf:owner/repo/file.gguf or hf:owner/repo:QUANT";

/** True when `spec` is written as a source (a URL or an `hf:` reference) rather than a name or a path. */
export function looksLikeSource(spec: string): boolean {
  return /^(https?:\/\/|hf:)/i.test(spec);
}

export function parseSource(text: string): ModelSource {
  const trimmed = text.trim();
  if (/^https?:\/\//i.test(trimmed)) return parseUrlSource(trimmed);
  if (/^hf:/i.test(trimmed)) return parseHfSource(trimmed);
  throw new StoreError("BAD_SOURCE", `cannot read "${text}" as a model source; expected ${SOURCE_FORMS}`);
}

/** `{endpoint}/{owner}/{repo}/resolve/main/{path}`, each path segment URL-encoded. */
export function hfResolveUrl(endpoint: string, repoId: string, filePath: string): string {
  const encodedPath = filePath.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repoId}/resolve/main/${encodedPath}`;
}

/** The file name a download is cached under; rejects names that are not single .gguf files. */
export function checkModelFileName(fileName: string, sourceText: string): string {
  if (!/\.gguf$/i.test(fileName)) {
    throw new StoreError("BAD_SOURCE", `${sourceText} does not name a .gguf file (file name "${fileName}"); expected ${SOURCE_FORMS}`);
  }
  if (fileName.startsWith(".") || /[\\/\0]/.test(fileName)) {
    throw new StoreError("BAD_SOURCE", `${sourceText}: "${fileName}" cannot be used as a file name in the model cache`);
  }
  if (SPLIT_PART.test(fileName)) {
    throw new StoreError("SPLIT_NOT_SUPPORTED", `${sourceText} is one part of a split model (${fileName}); split GGUF files are not supported yet — pick a quantization that is one file`);
  }
  return fileName;
}

function parseUrlSource(text: string): ModelSource {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreError("BAD_SOURCE", `"${text}" is not a valid URL; expected ${SOURCE_FORMS}`);
  }
  const lastSegment = url.pathname.split("/").pop() ?? "";
  let fileName: string;
  try {
    fileName = decodeURIComponent(lastSegment);
  } catch {
    fileName = lastSegment;
  }
  return { kind: "url", text, url: url.href, fileName: checkModelFileName(fileName, text) };
}

function parseHfSource(text: string): ModelSource {
  const rest = text.replace(/^hf:(\/\/)?/i, "");
  const colon = rest.indexOf(":");
  const repoAndPath = colon < 0 ? rest : rest.slice(0, colon);
  const quant = colon < 0 ? undefined : rest.slice(colon + 1);
  const segments = repoAndPath.split("/");
  const [owner, repo] = segments;
  if (segments.length < 2 || !REPO_PART.test(owner) || !REPO_PART.test(repo ?? "")) {
    throw new StoreError("BAD_SOURCE", `cannot read "${text}": expected hf:owner/repo:QUANT or hf:owner/repo/file.gguf`);
  }
  const repoId = `${owner}/${repo}`;
  if (segments.length === 2) {
    if (quant !== undefined && !QUANT_TAG.test(quant)) {
      throw new StoreError("BAD_SOURCE", `cannot read the quantization "${quant}" in "${text}"; expected a tag such as Q4_K_M or Q8_0`);
    }
    return { kind: "hf-repo", text, repoId, quant: quant || undefined };
  }
  if (quant !== undefined) throw new StoreError("BAD_SOURCE", `"${text}" gives both a file and a quantization; give one: hf:${repoId}:QUANT or hf:${repoId}/file.gguf`);
  const filePath = segments.slice(2).join("/");
  if (segments.slice(2).some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new StoreError("BAD_SOURCE", `"${text}" has an empty or relative path segment`);
  }
  const fileName = checkModelFileName(segments[segments.length - 1], text);
  return { kind: "hf-file", text, repoId, filePath, fileName };
}
