/**
 * The full-hash check of a model file (`layerstream verify MODEL`, `--verify full`): its sha256,
 * from the verify cache or computed now, and — for a file pulled into the model cache with a
 * known sha256 — compared with the hash recorded at download.
 */
import { LayerstreamError } from "../engine/errors.js";
import { fullSha256 } from "../host/fullHash.js";
import { readModelMeta } from "../store/sidecars.js";

export interface VerifiedFile {
  readonly sha256: string;
  /** the hash came from the verify cache (nothing was read) */
  readonly cached: boolean;
  /** the sha256 recorded when the file was downloaded, when there is one (it matched) */
  readonly recordedSha256?: string;
}

export interface VerifyOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (nBytesDone: number, nBytesTotal: number) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** @throws LayerstreamError SHA256_MISMATCH when the file differs from the hash recorded at download */
export async function verifyModelFile(path: string, options: VerifyOptions = {}): Promise<VerifiedFile> {
  const { sha256, cached } = await fullSha256(path, options);
  const recorded = readModelMeta(path)?.sha256?.toLowerCase();
  if (recorded !== undefined && recorded !== sha256) {
    throw new LayerstreamError("SHA256_MISMATCH", `model file ${path} has sha256 ${sha256}, but ${recorded} was recorded when it was downloaded: the file is damaged or was replaced`);
  }
  return { sha256, cached, recordedSha256: recorded };
}

/** One line for logs: "sha256 9a1f… (cached; matches the sha256 recorded at download)". */
export function describeVerified(file: VerifiedFile): string {
  const record = file.recordedSha256 === undefined ? "" : "; matches the sha256 recorded at download";
  return `sha256 ${file.sha256} (${file.cached ? "cached" : "computed now, cached"}${record})`;
}
