/**
 * A model file's identity, computed once per process: its size and a sha256 over the GGUF
 * header (metadata and tensor table) and 16 chunks of 64 KiB at evenly spaced offsets of the
 * file — the *sampled* fingerprint, cheap for any file size (≈1 MiB read) — plus the *full*
 * sha256 of the whole file when one is known: cached by `layerstream verify` (or an earlier
 * `--verify full`), or computed now with `verify: "full"`. The sampled fingerprint misses a
 * change between its chunks (a zeroed MiB in the middle of a layer); the full hash does not.
 * Root and workers compute it the same way; `compareModels` compares the full hashes when both
 * sides have one, the sampled fingerprints otherwise, and says which it used.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { openRegularFile } from "../engine/gguf/modelFile.js";
import { PROTOCOL_VERSION } from "../protocol/header.js";
import type { ModelIdentity } from "../protocol/control.js";
import { cachedFullSha256, fullSha256, type FullHashOptions } from "./fullHash.js";

export const IDENTITY_CHUNKS = 16;
export const IDENTITY_CHUNK_BYTES = 64 * 1024;
/** the header is hashed up to this many bytes (enormous vocabularies are sampled like the rest) */
const MAX_HEADER_BYTES = 64 * 2 ** 20;

/** How two processes check they have the same file: `sampled` (the default) uses a full hash only when both have one cached; `full` requires it. */
export type VerifyMode = "sampled" | "full";
export const VERIFY_MODES: readonly VerifyMode[] = ["sampled", "full"];

/** Which check decided a comparison. */
export type IdentityCheck = "full sha256" | "sampled fingerprint";

export interface ModelComparison {
  readonly same: boolean;
  readonly check: IdentityCheck;
  /** why they differ (or why the required full check could not be made), one line */
  readonly reason?: string;
}

/**
 * The sampled identity, with the full sha256 when the verify cache has it for the file as it is now.
 * @param headerBytes where tensor data starts (GgufFile.dataOffset)
 */
export function computeModelIdentity(path: string, headerBytes: number, nLayer: number): ModelIdentity {
  const { fd, size: fileBytes } = openRegularFile(path);
  try {
    const hash = createHash("sha256");
    hash.update(readAt(fd, 0, Math.min(headerBytes, MAX_HEADER_BYTES, fileBytes)));
    const span = Math.max(0, fileBytes - IDENTITY_CHUNK_BYTES);
    for (let i = 0; i < IDENTITY_CHUNKS; i++) {
      const offset = Math.floor((span * i) / (IDENTITY_CHUNKS - 1));
      hash.update(readAt(fd, offset, Math.min(IDENTITY_CHUNK_BYTES, fileBytes - offset)));
    }
    const identity: ModelIdentity = { protocolVersion: PROTOCOL_VERSION, fileBytes, fingerprint: hash.digest("hex"), nLayer };
    const full = cachedFullSha256(path);
    return full === undefined ? identity : { ...identity, fullSha256: full };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `identity` with its full sha256: from the cache, or computed now (reading the whole file, on
 * libuv's pool) and cached. What `--verify full` runs at start, on the root and on workers.
 */
export async function withFullSha256(identity: ModelIdentity, path: string, options: FullHashOptions = {}): Promise<ModelIdentity & { readonly fullSha256: string }> {
  if (identity.fullSha256 !== undefined) return { ...identity, fullSha256: identity.fullSha256 };
  const { sha256 } = await fullSha256(path, options);
  return { ...identity, fullSha256: sha256 };
}

/**
 * Whether `a` and `b` describe the same file: protocol, size and layer count, then the full
 * sha256 when both have one, else the sampled fingerprint. With `mode: "full"` a side without a
 * full hash makes the comparison fail (`reason` says which side).
 */
export function compareModels(a: ModelIdentity, b: ModelIdentity, mode: VerifyMode = "sampled", names: readonly [string, string] = ["root", "worker"]): ModelComparison {
  const full = a.fullSha256 !== undefined && b.fullSha256 !== undefined;
  const check: IdentityCheck = full ? "full sha256" : "sampled fingerprint";
  if (a.protocolVersion !== b.protocolVersion) return { same: false, check, reason: `protocol ${a.protocolVersion} vs ${b.protocolVersion}` };
  if (a.fileBytes !== b.fileBytes) return { same: false, check, reason: `${a.fileBytes} vs ${b.fileBytes} bytes` };
  if (a.nLayer !== b.nLayer) return { same: false, check, reason: `${a.nLayer} vs ${b.nLayer} layers` };
  if (mode === "full" && !full) {
    const missing = [a, b].flatMap((identity, i) => (identity.fullSha256 === undefined ? [names[i]] : []));
    return { same: false, check, reason: `--verify full: the ${missing.join(" and the ")} ${missing.length > 1 ? "have" : "has"} no full sha256 (run layerstream verify on its file, or start it with --verify full)` };
  }
  if (full) return a.fullSha256 === b.fullSha256 ? { same: true, check } : { same: false, check, reason: "the full sha256 hashes differ" };
  return a.fingerprint === b.fingerprint ? { same: true, check } : { same: false, check, reason: "the sampled fingerprints differ" };
}

/** compareModels(a, b).same, in the default mode. */
export function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return compareModels(a, b).same;
}

/** e.g. "1185376 bytes, fingerprint 270cba1bd510…, sha256 9a1f…, 5 layers, protocol 3" */
export function describeIdentity(identity: ModelIdentity): string {
  const full = identity.fullSha256 === undefined ? "no full sha256" : `sha256 ${identity.fullSha256.slice(0, 16)}`;
  return `${identity.fileBytes} bytes, fingerprint ${identity.fingerprint.slice(0, 16)}, ${full}, ${identity.nLayer} layers, protocol ${identity.protocolVersion}`;
}

function readAt(fd: number, offset: number, nBytes: number): Uint8Array {
  const buffer = Buffer.alloc(Math.max(0, nBytes));
  let done = 0;
  while (done < buffer.length) {
    const n = fs.readSync(fd, buffer, done, buffer.length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}
