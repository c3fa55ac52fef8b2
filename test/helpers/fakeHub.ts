/**
 * A stand-in for Hugging Face on 127.0.0.1, for tests that must not touch the internet: a
 * "hub" server (`/api/models/{owner}/{repo}` with `siblings`, `/{owner}/{repo}/resolve/main/{path}`
 * answering 302 with `x-linked-etag` / `x-linked-size`) and a "cdn" server on another port
 * (another origin) that serves the bytes with Range support. Every request is recorded.
 * Also a tiny forward proxy (CONNECT and absolute-form GET) that records what went through it.
 */
import { expect } from "vitest";
import { StoreError } from "../../src/store/errors.js";
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";

export interface FakeFile {
  readonly bytes: Buffer;
  /** default application/octet-stream */
  readonly contentType?: string;
  /** sha256 the hub announces in x-linked-etag; default the real one; null: no x-linked-etag */
  readonly linkedSha256?: string | null;
  /** ETag the cdn sends; default `"sha256"` */
  readonly etag?: string;
}

export interface FakeRepo {
  /** path in the repository → content; other names can be listed with `extraSiblings` */
  readonly files: Record<string, Buffer | FakeFile>;
  readonly extraSiblings?: readonly string[];
  /** 401 without `Authorization: Bearer <token>` */
  readonly gatedToken?: string;
}

export interface RecordedRequest {
  readonly server: "hub" | "cdn";
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface FakeHub extends AsyncDisposable {
  /** http://127.0.0.1:PORT — what HF_ENDPOINT is set to */
  readonly endpoint: string;
  /** the other origin, where resolve/ redirects to */
  readonly cdnOrigin: string;
  readonly requests: RecordedRequest[];
  /** repos by "owner/repo"; may be changed between requests */
  readonly repos: Record<string, FakeRepo>;
  /** files served directly at `${cdnOrigin}/files/NAME` (plain URL sources); may be changed */
  readonly plainFiles: Record<string, FakeFile>;
  /** the next `nResponses` file bodies stop after `nBytes` bytes and the socket is destroyed */
  cutNext(nResponses: number, nBytes: number): void;
  /** answer 200 with the whole file even to a Range request */
  ignoreRange: boolean;
  /** requests for file bytes (cdn), in order */
  fileRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export function sha256Hex(bytes: Buffer): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

function asFakeFile(file: Buffer | FakeFile): FakeFile {
  return Buffer.isBuffer(file) ? { bytes: file } : file;
}

export async function startFakeHub(repos: Record<string, FakeRepo> = {}, plainFiles: Record<string, FakeFile> = {}): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const cut = { nResponses: 0, nBytes: 0 };
  const state = { ignoreRange: false };
  let cdnOrigin = "";
  const hub = http.createServer((req, res) => {
    requests.push({ server: "hub", method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    handleHub(req, res, repos, cdnOrigin);
  });
  const cdn = http.createServer((req, res) => {
    requests.push({ server: "cdn", method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const file = findCdnFile(req.url ?? "", repos, plainFiles);
    if (file === undefined) return sendHtml(res, 404, "<!DOCTYPE html><html><body>404 not found</body></html>");
    serveFile(req, res, file, state.ignoreRange, cut);
  });
  const endpoint = await listen(hub);
  cdnOrigin = await listen(cdn);
  const close = async () => {
    for (const server of [hub, cdn]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
  return {
    endpoint,
    cdnOrigin,
    requests,
    repos,
    plainFiles,
    cutNext: (nResponses, nBytes) => Object.assign(cut, { nResponses, nBytes }),
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(value: boolean) {
      state.ignoreRange = value;
    },
    fileRequests: () => requests.filter((r) => r.server === "cdn"),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function handleHub(req: http.IncomingMessage, res: http.ServerResponse, repos: Record<string, FakeRepo>, cdnOrigin: string): void {
  const url = new URL(req.url ?? "/", "http://hub");
  const api = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(url.pathname);
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
  const repoId = api?.[1] ?? resolve?.[1];
  const repo = repoId === undefined ? undefined : repos[repoId];
  if (repo === undefined) return sendJson(res, 404, { error: "Repository not found" });
  if (repo.gatedToken !== undefined && req.headers.authorization !== `Bearer ${repo.gatedToken}`) return sendJson(res, 401, { error: "Access to this model is restricted" });
  if (api) {
    const siblings = [...Object.keys(repo.files), ...(repo.extraSiblings ?? [])].map((rfilename) => ({ rfilename }));
    return sendJson(res, 200, { id: repoId, siblings });
  }
  const filePath = decodeURIComponent(resolve![2]);
  const entry = repo.files[filePath];
  if (entry === undefined) return sendJson(res, 404, { error: "Entry not found" });
  const file = asFakeFile(entry);
  const linked = file.linkedSha256 === undefined ? sha256Hex(file.bytes) : file.linkedSha256;
  res.writeHead(302, {
    location: `${cdnOrigin}/cdn/${repoId}/${resolve![2]}?signature=abc`,
    ...(linked !== null ? { "x-linked-etag": `"${linked}"` } : {}),
    "x-linked-size": String(file.bytes.length),
    "content-length": "0",
  });
  res.end();
}

function findCdnFile(rawUrl: string, repos: Record<string, FakeRepo>, plainFiles: Record<string, FakeFile>): FakeFile | undefined {
  const url = new URL(rawUrl, "http://cdn");
  const cdnMatch = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
  if (cdnMatch) {
    const entry = repos[cdnMatch[1]]?.files[decodeURIComponent(cdnMatch[2])];
    return entry === undefined ? undefined : asFakeFile(entry);
  }
  const plain = /^\/files\/(.+)$/.exec(url.pathname);
  return plain ? plainFiles[decodeURIComponent(plain[1])] : undefined;
}

function serveFile(req: http.IncomingMessage, res: http.ServerResponse, file: FakeFile, ignoreRange: boolean, cut: { nResponses: number; nBytes: number }): void {
  const size = file.bytes.length;
  const headers = { "content-type": file.contentType ?? "application/octet-stream", etag: file.etag ?? `"${sha256Hex(file.bytes)}"`, "accept-ranges": "bytes" };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  let start = 0;
  let end = size - 1;
  if (range && !ignoreRange) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { "content-range": `bytes */${size}` });
      return void res.end();
    }
    res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${size}`, "content-length": String(end - start + 1) });
  } else {
    res.writeHead(200, { ...headers, "content-length": String(size) });
  }
  const body = file.bytes.subarray(start, end + 1);
  if (cut.nResponses > 0) {
    cut.nResponses--;
    res.write(body.subarray(0, cut.nBytes));
    setTimeout(() => res.socket?.destroy(), 100);
    return;
  }
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": String(Buffer.byteLength(html)) });
  res.end(html);
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface ForwardProxy extends AsyncDisposable {
  /** http://127.0.0.1:PORT — what HTTP_PROXY is set to */
  readonly url: string;
  /** `host:port` of each CONNECT tunnel and the URL of each absolute-form request, in order */
  readonly targets: string[];
  close(): Promise<void>;
}

/** A forward proxy: CONNECT tunnels (what undici uses) and plain absolute-form GETs. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    targets.push(req.url ?? "");
    const upstream = http.request(req.url ?? "", { method: req.method, headers: req.headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => sockets.delete(socket));
    }
  });
  const url = await listen(server);
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url, targets, close, [Symbol.asyncDispose]: close };
}

/** The StoreError a promise rejects with; its message is one line. */
export async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as Error).message).not.toContain("\n");
  return error as StoreError;
}
