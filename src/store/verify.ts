/**
 * Checks on a finished download before it takes its final name: the sha256 of the whole
 * file (resumed bytes included) and that it is a GGUF model at all.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { GgufFormatError } from "../engine/gguf/errors.js";
import { StoreError } from "./errors.js";
import { readModelInfo, type ModelInfo } from "./modelInfo.js";

const GGUF_MAGIC = "GGUF";
/** Bytes needed to tell a GGUF file from something else. */
export const MAGIC_BYTES = 4;

/** The file's sha256 as lower-case hex. */
export async function sha256OfFile(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash("sha256");
  await pipeline(fs.createReadStream(filePath, { highWaterMark: 1 << 20 }), hash, { signal });
  return hash.digest("hex");
}

/** Throws SHA256_MISMATCH naming both hashes. */
export async function checkSha256(filePath: string, expected: string, url: string, signal?: AbortSignal): Promise<void> {
  const actual = await sha256OfFile(filePath, signal);
  if (actual !== expected) {
    throw new StoreError("SHA256_MISMATCH", `sha256 mismatch for ${url}: expected ${expected}, got ${actual}; the download was deleted`);
  }
}

/** Fails as soon as the first bytes show the response is not a GGUF file (e.g. an HTML page). */
export function checkGgufMagic(head: Uint8Array, url: string, contentType: string | undefined): void {
  if (head.length >= MAGIC_BYTES && Buffer.from(head.subarray(0, MAGIC_BYTES)).toString("latin1") === GGUF_MAGIC) return;
  throw new StoreError("NOT_GGUF", `${url} did not send a GGUF file: ${describeNonGguf(head, contentType)}${pageHint(url)}; nothing was cached`);
}

/** Parses the whole header (as loading will); a bad file throws NOT_GGUF. */
export function checkGgufFile(filePath: string, url: string): ModelInfo {
  try {
    return readModelInfo(filePath);
  } catch (error) {
    if (!(error instanceof GgufFormatError)) throw error;
    const reason = error.message.startsWith(`${filePath}: `) ? error.message.slice(filePath.length + 2) : error.message;
    throw new StoreError("NOT_GGUF", `${url} is not a valid GGUF file (${error.code}: ${reason}); nothing was cached`, { cause: error });
  }
}

/** "an HTML page (text/html) starting "<!DOCTYPE html>"", "a JSON document …", or the first bytes in hex. */
export function describeNonGguf(head: Uint8Array, contentType: string | undefined): string {
  const text = Buffer.from(head.subarray(0, 64)).toString("utf8");
  const start = text.trimStart().toLowerCase();
  const typeNote = contentType ? ` (${contentType.split(";")[0].trim()})` : "";
  const preview = JSON.stringify(text.trim().split(/\r?\n/)[0].slice(0, 40));
  if (start.startsWith("<!doctype html") || start.startsWith("<html") || contentType?.includes("text/html")) return `it sent an HTML page${typeNote} starting ${preview}`;
  if (start.startsWith("{") || start.startsWith("[")) return `it sent a JSON document${typeNote} starting ${preview}`;
  if (head.length === 0) return "it sent an empty file";
  const hex = Buffer.from(head.subarray(0, 8)).toString("hex").replace(/(..)(?!$)/g, "$1 ");
  return `the file starts with bytes ${hex}${typeNote}, not "GGUF"`;
}

/** A Hugging Face page URL (`/blob/`) serves HTML; the file itself is under `/resolve/`. */
function pageHint(url: string): string {
  return /\/blob\//.test(new URL(url).pathname) ? " (a /blob/ URL is the web page; use /resolve/ instead, or hf:owner/repo/file.gguf)" : "";
}
