/**
 * The small JSON files kept beside a cached model:
 * - `NAME.part.json` while `NAME.part` downloads: the URL and what identifies the remote
 *   file (ETag, sha256, size), so a later pull resumes only the very same file;
 * - `NAME.json` once NAME is complete: where it came from (source, URL, sha256), so that
 *   `--model SOURCE` finds it again without the network.
 */
import fs from "node:fs";
import { modelMetaPathOf, partMetaPathOf, partPathOf } from "./paths.js";

export interface RemoteIdentity {
  /** the final response's ETag, as sent */
  readonly etag?: string;
  /** sha256 announced by the server (`x-linked-etag`) */
  readonly linkedSha256?: string;
  readonly nBytesTotal?: number;
}

export interface PartMeta extends RemoteIdentity {
  readonly url: string;
}

export interface ModelMeta {
  /** what the user typed: `hf:…` or a URL */
  readonly source: string;
  readonly url: string;
  readonly sha256?: string;
  readonly nBytes: number;
  /** ISO 8601 */
  readonly downloadedAt: string;
}

export function readPartMeta(modelPath: string): PartMeta | undefined {
  const json = readJson(partMetaPathOf(modelPath));
  return json !== undefined && typeof json.url === "string" ? (json as unknown as PartMeta) : undefined;
}

export function writePartMeta(modelPath: string, meta: PartMeta): void {
  fs.writeFileSync(partMetaPathOf(modelPath), JSON.stringify(meta, null, 2) + "\n");
}

export function readModelMeta(modelPath: string): ModelMeta | undefined {
  const json = readJson(modelMetaPathOf(modelPath));
  return json !== undefined && typeof json.source === "string" && typeof json.url === "string" ? (json as unknown as ModelMeta) : undefined;
}

export function writeModelMeta(modelPath: string, meta: ModelMeta): void {
  fs.writeFileSync(modelMetaPathOf(modelPath), JSON.stringify(meta, null, 2) + "\n");
}

/** Bytes already in `NAME.part` (0 when there is none). */
export function partSize(modelPath: string): number {
  try {
    return fs.statSync(partPathOf(modelPath)).size;
  } catch {
    return 0;
  }
}

/** Deletes `NAME.part` and `NAME.part.json`, if there. */
export function discardPart(modelPath: string): void {
  fs.rmSync(partPathOf(modelPath), { force: true });
  fs.rmSync(partMetaPathOf(modelPath), { force: true });
}

/**
 * True when a response describes the file a .part was started from: every validator both
 * sides know (sha256, ETag, size) agrees, and there is at least one to compare.
 */
export function sameRemoteFile(saved: RemoteIdentity, observed: RemoteIdentity): boolean {
  let nCompared = 0;
  if (saved.linkedSha256 !== undefined && observed.linkedSha256 !== undefined) {
    if (saved.linkedSha256 !== observed.linkedSha256) return false;
    nCompared++;
  } else if (saved.etag !== undefined && observed.etag !== undefined) {
    if (strongEtag(saved.etag) !== strongEtag(observed.etag)) return false;
    nCompared++;
  }
  if (saved.nBytesTotal !== undefined && observed.nBytesTotal !== undefined) {
    if (saved.nBytesTotal !== observed.nBytesTotal) return false;
    nCompared++;
  }
  return nCompared > 0;
}

function strongEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "");
}

function readJson(filePath: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(filePath, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
