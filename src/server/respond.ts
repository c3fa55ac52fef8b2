/**
 * Answers a completion request, whole or streamed (server-sent events), for both OpenAI
 * endpoints. Each request is simply a call on the model: concurrent requests are concurrent
 * calls, which the model batches (up to `parallel`) and queues (up to `maxQueue`; beyond,
 * QueueFullError → 429). The call's signal is aborted when the client disconnects, so its
 * sequence leaves the batch within one token.
 *
 * A stream's status is decided before anything is sent: the response starts with the first
 * generated text (or the end, for an empty reply), so a call refused by the model (queue full,
 * a prompt that does not fit) still gets its proper status code and OpenAI error body.
 */
import { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import { LayerstreamError, QueueFullError, type CompletionResult, type CompletionStream, type LoadedModel } from "../index.js";
import type { Call } from "./calls.js";
import type { ServerContext } from "./context.js";
import { ApiError, shuttingDown, toApiError } from "./errors.js";
import { finishReason, type ResponseShape } from "./openaiShapes.js";
import type { SamplingFields } from "./schemas/common.js";

export interface CompletionJob {
  readonly body: SamplingFields;
  /** starts the model call with the request's options and the call's signal */
  start(model: LoadedModel, signal: AbortSignal): CompletionStream;
  shape(modelName: string): ResponseShape;
  /** the request field that holds the prompt ("prompt" or "messages"), named by a context_length_exceeded error */
  readonly promptField: string;
}

/** The model for a request naming `wanted` (or none): 503 while loading, 404 for another model. */
export function modelFor(ctx: ServerContext, wanted: string | undefined): LoadedModel {
  const model = ctx.slot.get();
  if (wanted !== undefined && wanted !== "" && !ctx.slot.answersTo(wanted, model)) {
    throw new ApiError(404, "invalid_request_error", "model_not_found", `the model "${wanted}" does not exist: this server runs "${model.info.name}"`, "model");
  }
  return model;
}

export async function answerCompletion(ctx: ServerContext, reply: FastifyReply, job: CompletionJob): Promise<unknown> {
  const model = modelFor(ctx, job.body.model);
  const shape = job.shape(model.info.name);
  const { call, end } = ctx.calls.begin(reply.raw);
  let handedOff = false;
  try {
    const stream = job.start(model, call.signal);
    if (!job.body.stream) return shape.whole(await wholeResult(ctx, call, stream));
    const pieces = stream[Symbol.asyncIterator]();
    const first = await pieces.next();
    if (!first.done) notePiece(ctx, call);
    const includeUsage = job.body.stream_options?.include_usage === true;
    void reply.type("text/event-stream; charset=utf-8").header("cache-control", "no-cache").header("x-accel-buffering", "no");
    handedOff = true;
    const body = Readable.from(sseEvents(ctx, { call, end, stream, pieces, first, shape, includeUsage, promptField: job.promptField }));
    // a body destroyed before it was ever read never runs the generator's finally: end the call here too
    body.once("close", () => {
      end();
      void pieces.return?.();
    });
    return reply.send(body);
  } catch (error) {
    throw requestError(ctx, call, error, job.promptField);
  } finally {
    if (!handedOff) end();
  }
}

/** The error a failed call answers with: a full queue is a 429, a shutdown a 503; a client that left gets nothing it could read. */
function requestError(ctx: ServerContext, call: Call, error: unknown, promptField: string): unknown {
  if (call.cancelled === "shutdown") return shuttingDown();
  if (call.cancelled === "disconnect") return new ApiError(499, "invalid_request_error", "client_closed_request", "the client closed the connection");
  if (error instanceof QueueFullError) {
    const { parallel, maxQueue } = ctx.settings;
    const queue = maxQueue === undefined ? "the queue is full" : `the queue (${maxQueue}) is full`;
    return new ApiError(429, "rate_limit_error", "queue_full", `the server is busy: ${parallel} sequence${parallel === 1 ? "" : "s"} generating and ${queue}; try again later`, null, 1);
  }
  if (error instanceof LayerstreamError && error.code === "CONTEXT_FULL") return new ApiError(400, "invalid_request_error", "context_length_exceeded", error.message, promptField);
  return error;
}

async function wholeResult(ctx: ServerContext, call: Call, stream: CompletionStream): Promise<CompletionResult> {
  for await (const _piece of stream) notePiece(ctx, call);
  const result = await stream.result;
  countResult(ctx, result);
  return result;
}

function notePiece(ctx: ServerContext, call: Call): void {
  call.piece();
  ctx.metrics.liveRate.add();
}

function countResult(ctx: ServerContext, result: CompletionResult): void {
  ctx.metrics.promptTokens.inc(result.usage.promptTokens);
  ctx.metrics.completionTokens.inc(result.usage.completionTokens);
  ctx.metrics.completions.inc({ finish_reason: finishReason(result.stopReason) });
}

interface StreamState {
  readonly call: Call;
  readonly end: () => void;
  readonly stream: CompletionStream;
  readonly pieces: AsyncIterator<string>;
  readonly first: IteratorResult<string>;
  readonly shape: ResponseShape;
  readonly includeUsage: boolean;
  readonly promptField: string;
}

const event = (data: object): string => `data: ${JSON.stringify(data)}\n\n`;

/** The SSE body: the opening, each piece, the finish, usage when asked, [DONE]; an error event if the call fails midway. */
async function* sseEvents(ctx: ServerContext, s: StreamState): AsyncGenerator<string> {
  try {
    const opening = s.shape.opening();
    if (opening) yield event(opening);
    for (let next = s.first; !next.done; next = await s.pieces.next()) {
      if (next !== s.first) notePiece(ctx, s.call);
      yield event(s.shape.chunk(next.value));
    }
    const result = await s.stream.result;
    countResult(ctx, result);
    yield event(s.shape.finish(result));
    if (s.includeUsage) yield event(s.shape.usage(result));
    yield "data: [DONE]\n\n";
  } catch (error) {
    if (s.call.cancelled !== "disconnect") yield event(toApiError(requestError(ctx, s.call, error, s.promptField)).body);
  } finally {
    await s.pieces.return?.();
    s.end();
  }
}
