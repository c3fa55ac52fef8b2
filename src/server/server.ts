/**
 * `startServer()`: listens first, then loads the model in the background (so /health answers
 * 503 while it loads), and shuts down gracefully: new requests are refused, requests in flight
 * get `graceMs` to finish, the rest are cancelled (their sequences leave the batch), then the
 * connections close and the model is disposed (its workers stopped).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import type { LoadedModel, LoadModelOptions } from "../index.js";
import { buildApp } from "./app.js";
import { CallTracker } from "./calls.js";
import type { ServerContext, ServerSettings } from "./context.js";
import { ServerMetrics } from "./metrics.js";
import { ModelSlot } from "./modelSlot.js";
import { StatsCache } from "./statsCache.js";

export interface ServerOptions {
  readonly host: string;
  /** 0: any free port (see `RunningServer.url`) */
  readonly port: number;
  /** what to load; `parallel` and `maxQueue` also tell the dashboard what the limits are */
  readonly load: LoadModelOptions;
  /** requests to /v1 and the dashboard's data need `Authorization: Bearer <apiKey>` */
  readonly apiKey?: string;
  /** the largest request body in bytes (beyond: 413) */
  readonly bodyLimit?: number;
  /** one line per notable event */
  readonly log?: (line: string) => void;
  /** one line per answered request */
  readonly logRequests?: boolean;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  /** settles when loading ends: the model, or undefined when it failed (`context.slot.error`) or was aborted */
  readonly loaded: Promise<LoadedModel | undefined>;
  /** Graceful shutdown; resolves when the server is closed and the model disposed. Safe to call twice. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const settings: ServerSettings = {
    parallel: options.load.parallel ?? 1,
    maxQueue: options.load.maxQueue,
    apiKey: options.apiKey,
    log,
    logRequests: options.logRequests ?? false,
  };
  const metrics = new ServerMetrics();
  const aliases = options.load.model ? [options.load.model] : [];
  const context: ServerContext = { slot: new ModelSlot(aliases), calls: new CallTracker(metrics), metrics, stats: new StatsCache(), settings };
  const app = buildApp(context, options.bodyLimit);
  const responses = trackResponses(app);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  const loaded = context.slot.load(options.load);
  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    context,
    loaded,
    close: (graceMs = 10_000) => (closing ??= shutDown(app, context, responses, graceMs)),
  };
}

/**
 * Which sockets have a response in progress: at shutdown, once no call runs, the others (idle
 * keep-alive connections, including ones a client left open after abandoning a stream) are
 * closed so the server can stop; a socket still sending its last bytes is left to finish.
 */
function trackResponses(app: FastifyInstance): { closeIdle(): void } {
  const busy = new Map<Socket, number>();
  app.server.on("connection", (socket: Socket) => {
    busy.set(socket, 0);
    socket.once("close", () => busy.delete(socket));
  });
  app.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    response.once("close", () => busy.has(socket) && busy.set(socket, busy.get(socket)! - 1));
  });
  return {
    closeIdle() {
      for (const [socket, n] of busy) if (n === 0) socket.destroy();
    },
  };
}

async function shutDown(app: FastifyInstance, ctx: ServerContext, responses: { closeIdle(): void }, graceMs: number): Promise<void> {
  ctx.slot.startClosing();
  const inFlight = ctx.calls.size;
  if (inFlight > 0) ctx.settings.log(`shutting down: ${inFlight} request${inFlight === 1 ? "" : "s"} in flight, ${(graceMs / 1000).toFixed(0)} s to finish`);
  const cancel = setTimeout(() => {
    if (ctx.calls.size > 0) ctx.settings.log(`cancelling ${ctx.calls.size} request${ctx.calls.size === 1 ? "" : "s"} still running`);
    ctx.calls.cancelAll("shutdown");
  }, graceMs);
  // once no call runs, connections without a response in progress have nothing left to wait for
  let sweeper: NodeJS.Timeout | undefined;
  void ctx.calls.idle().then(() => {
    responses.closeIdle();
    sweeper = setInterval(() => responses.closeIdle(), 50);
  });
  try {
    await app.close();
  } finally {
    clearTimeout(cancel);
    clearInterval(sweeper);
  }
}
