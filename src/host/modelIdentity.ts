/**
 * A model file's identity, computed once per process: its size and a sha256 over the GGUF
 * header (metadata and tensor table) and 16 chunks of 64 KiB at evenly spaced offsets of the
 * file. Cheap for any file size (≈1 MiB read), and two files that differ in metadata, tensor
 * layout or size, or in sampled weights, get different fingerprints. Root and workers compute
 * it the same way; a worker whose identity differs from the root's is refused.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { PROTOCOL_VERSION } from "../protocol/header.js";
import type { ModelIdentity } from "../protocol/control.js";

export const IDENTITY_CHUNKS = 16;
export const IDENTITY_CHUNK_BYTES = 64 * 1024;
/** the header is hashed up to this many bytes (enormous vocabularies are sampled like the rest) */
const MAX_HEADER_BYTES = 64 * 2 ** 20;

/**
 * @param headerBytes where tensor data starts (GgufFile.dataOffset)
 */
export function computeModelIdentity(path: string, headerBytes: number, nLayer: number): ModelIdentity {
  const fd = fs.openSync(path, "r");
  try {
    const fileBytes = fs.fstatSync(fd).size;
    const hash = createHash("sha256");
    hash.update(readAt(fd, 0, Math.min(headerBytes, MAX_HEADER_BYTES, fileBytes)));
    const span = Math.max(0, fileBytes - IDENTITY_CHUNK_BYTES);
    for (let i = 0; i < IDENTITY_CHUNKS; i++) {
      const offset = Math.floor((span * i) / (IDENTITY_CHUNKS - 1));
      hash.update(readAt(fd, offset, Math.min(IDENTITY_CHUNK_BYTES, fileBytes - offset)));
    }
    return { protocolVersion: PROTOCOL_VERSION, fileBytes, fingerprint: hash.digest("hex"), nLayer };
  } finally {
    fs.closeSync(fd);
  }
}

export function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return a.protocolVersion === b.protocolVersion && a.fileBytes === b.fileBytes && a.fingerprint === b.fingerprint && a.nLayer === b.nLayer;
}

/** e.g. "1185376 bytes, fingerprint 270cba1bd510…" */
export function describeIdentity(identity: ModelIdentity): string {
  return `${identity.fileBytes} bytes, fingerprint ${identity.fingerprint.slice(0, 16)}, ${identity.nLayer} layers, protocol ${identity.protocolVersion}`;
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
