/**
 * GET with redirects followed by hand: Hugging Face answers `resolve/` with a 302 to its CDN
 * and puts the LFS file's sha256 and size on that hop (`x-linked-etag`, `x-linked-size`).
 * `Authorization` goes only to the Hugging Face endpoint's origin, never to a CDN on another
 * origin. Requests go through undici's `EnvHttpProxyAgent`, so `HTTPS_PROXY`, `HTTP_PROXY`
 * and `NO_PROXY` apply.
 */
import { EnvHttpProxyAgent, request, type Dispatcher } from "undici";
import { AbortError } from "../engine/errors.js";
import { StoreError, reasonOf } from "./errors.js";
import { userAgent } from "./paths.js";

const MAX_REDIRECTS = 10;
/** A connection that sends no headers, or no body bytes, for this long is dropped (and retried if it made progress). */
const STALL_TIMEOUT_MS = 60_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export type ResponseBody = Dispatcher.ResponseData["body"];
export type ResponseHeaders = Dispatcher.ResponseData["headers"];

export interface GetOptions {
  readonly dispatcher: Dispatcher;
  /** the origin (scheme://host:port) that may receive `token` */
  readonly authOrigin?: string;
  readonly token?: string;
  /** extra request headers, sent on every hop (e.g. `range`) */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface OpenedResponse {
  readonly statusCode: number;
  readonly headers: ResponseHeaders;
  readonly body: ResponseBody;
  /** the URL that was asked for */
  readonly requestedUrl: string;
  /** the URL that answered, after redirects */
  readonly finalUrl: string;
  /** sha256 (lower-case hex) from an `x-linked-etag` on any hop */
  readonly linkedSha256?: string;
  /** file size from an `x-linked-size` on any hop */
  readonly linkedNBytes?: number;
}

/** The dispatcher of one pull: reads the proxy variables from the environment. Close it after. */
export function createDispatcher(): Dispatcher {
  return new EnvHttpProxyAgent({ headersTimeout: STALL_TIMEOUT_MS, bodyTimeout: STALL_TIMEOUT_MS });
}

/** GET `url`, following redirects; resolves once the final response's headers are in. */
export async function getFollowingRedirects(url: string, options: GetOptions): Promise<OpenedResponse> {
  let currentUrl = url;
  let linkedSha256: string | undefined;
  let linkedNBytes: number | undefined;
  for (let nRedirects = 0; ; nRedirects++) {
    const response = await getOnce(currentUrl, url, options);
    linkedSha256 = sha256FromEtag(header(response.headers, "x-linked-etag")) ?? linkedSha256;
    linkedNBytes = sizeFromHeader(header(response.headers, "x-linked-size")) ?? linkedNBytes;
    const location = header(response.headers, "location");
    if (!REDIRECT_STATUSES.has(response.statusCode) || location === undefined) {
      return { ...response, requestedUrl: url, finalUrl: currentUrl, linkedSha256, linkedNBytes };
    }
    await discardBody(response.body);
    if (nRedirects >= MAX_REDIRECTS) throw new StoreError("HTTP_STATUS", `more than ${MAX_REDIRECTS} redirects fetching ${url}`);
    currentUrl = new URL(location, currentUrl).href;
  }
}

async function getOnce(hopUrl: string, requestedUrl: string, options: GetOptions): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = { "user-agent": userAgent(), ...options.headers };
  if (options.token !== undefined && options.authOrigin !== undefined && new URL(hopUrl).origin === options.authOrigin) {
    headers.authorization = `Bearer ${options.token}`;
  }
  try {
    return await request(hopUrl, { method: "GET", headers, signal: options.signal, dispatcher: options.dispatcher });
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError(`cancelled while connecting to ${requestedUrl}`);
    throw new StoreError("NETWORK", `cannot fetch ${requestedUrl}: ${reasonOf(error)}`, { cause: error });
  }
}

/** Throws the one-line error for a status that is not a success; `isHuggingFace` adds the HF_TOKEN advice. */
export async function throwForStatus(response: OpenedResponse, isHuggingFace: boolean, sentToken: boolean): Promise<never> {
  await discardBody(response.body);
  const status = response.statusCode;
  const url = response.requestedUrl;
  if (status === 404) throw new StoreError("NOT_FOUND", `not found (HTTP 404): ${url}`);
  if (status === 401 || status === 403) {
    if (!isHuggingFace) throw new StoreError("ACCESS_DENIED", `access denied (HTTP ${status}) for ${url}`);
    const advice = sentToken
      ? "the HF_TOKEN that was sent does not give access: accept the repository's terms on its page and check the token's permissions"
      : "the repository may be gated or private: accept its terms on its page and set HF_TOKEN to an access token (https://huggingface.co/settings/tokens)";
    throw new StoreError("ACCESS_DENIED", `access denied (HTTP ${status}) for ${url}; ${advice}`);
  }
  const from = response.finalUrl === url ? url : `${new URL(response.finalUrl).host} (fetching ${url})`;
  throw new StoreError("HTTP_STATUS", `unexpected HTTP ${status} from ${from}`);
}

/** Reads and drops a body so the connection can be reused or closed; never throws. */
export async function discardBody(body: ResponseBody): Promise<void> {
  try {
    await body.dump();
  } catch {
    // the connection is gone anyway
  }
}

/** One header's value (the first, if repeated). */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `"abc…"` or `W/"abc…"` → lower-case hex when it is a sha256 (64 hex digits). */
export function sha256FromEtag(etag: string | undefined): string | undefined {
  const bare = etag?.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return bare !== undefined && /^[0-9a-fA-F]{64}$/.test(bare) ? bare.toLowerCase() : undefined;
}

function sizeFromHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const nBytes = Number(value);
  return Number.isSafeInteger(nBytes) ? nBytes : undefined;
}

/** `Content-Range: bytes 100-199/200` → its start and the total (undefined for `*`). */
export function parseContentRange(value: string | undefined): { start: number; nBytesTotal: number | undefined } | undefined {
  const match = value === undefined ? null : /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (!match) return undefined;
  return { start: Number(match[1]), nBytesTotal: match[3] === "*" ? undefined : Number(match[3]) };
}

/** `Content-Length` as a number, if present. */
export function contentLength(headers: ResponseHeaders): number | undefined {
  return sizeFromHeader(header(headers, "content-length"));
}
