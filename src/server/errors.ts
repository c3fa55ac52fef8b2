/**
 * Errors in the OpenAI shape — `{ "error": { "message", "type", "param", "code" } }` — with the
 * HTTP status each kind of failure gets: what the client sent (400), who it is (401), what it
 * asked for (404), how much (413), how busy the server is (429), whether the model is ready (503).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AbortError, LayerstreamError, QueueFullError, StoreError, ClusterError } from "../index.js";

export type OpenAiErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "rate_limit_error" | "server_error";

export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: OpenAiErrorType;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** An error the server answers with on purpose: its status, OpenAI type and code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    /** seconds, for 429 and 503 (the Retry-After header) */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const modelLoading = (): ApiError => new ApiError(503, "server_error", "model_loading", "the model is still loading; try again shortly", null, 1);
export const shuttingDown = (): ApiError => new ApiError(503, "server_error", "server_shutting_down", "the server is shutting down", null, 5);

/** LayerstreamError codes that are the request's fault (a bad option, a prompt that does not fit). */
const BAD_INPUT = new Set(["BAD_OPTION", "UNKNOWN_OPTION", "BAD_SAMPLER_OPTION"]);

/** Any error → the status and OpenAI body the client gets. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof QueueFullError) return new ApiError(429, "rate_limit_error", "queue_full", `the server is busy: ${error.message}`, null, 1);
  if (error instanceof AbortError) return new ApiError(499, "invalid_request_error", "cancelled", error.message);
  if (error instanceof LayerstreamError) return fromLayerstreamError(error);
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation) return validationError(fastify as FastifyError);
  if (typeof fastify.statusCode === "number" && fastify.statusCode >= 400 && fastify.statusCode < 500) return fromFastifyError(fastify as FastifyError);
  return new ApiError(500, "server_error", "internal_error", `internal error: ${error instanceof Error ? error.message : String(error)}`);
}

function fromLayerstreamError(error: LayerstreamError): ApiError {
  if (error.code === "CONTEXT_FULL") return new ApiError(400, "invalid_request_error", "context_length_exceeded", error.message);
  if (error.code === "DISPOSED" || error.code === "CLOSED") return shuttingDown();
  if (error instanceof ClusterError || error instanceof StoreError) return new ApiError(500, "server_error", error.code.toLowerCase(), error.message);
  if (BAD_INPUT.has(error.code) || error.name !== "LayerstreamError") return new ApiError(400, "invalid_request_error", error.code.toLowerCase(), error.message);
  return new ApiError(500, "server_error", error.code.toLowerCase(), error.message);
}

/** A request that failed its route's JSON schema. */
function validationError(error: FastifyError): ApiError {
  const first = error.validation?.[0];
  const path = first?.instancePath ? first.instancePath.slice(1).replaceAll("/", ".") : undefined;
  const missing = first?.keyword === "required" ? String((first.params as { missingProperty?: string }).missingProperty) : undefined;
  const param = [path, missing].filter((p) => p).join(".") || null;
  const context = error.validationContext ?? "body";
  return new ApiError(400, "invalid_request_error", "invalid_value", `invalid ${context}: ${param ?? context} ${first?.message ?? "is invalid"}`, param);
}

/** Fastify's own 4xx: unparsable JSON, a body too large, an unsupported content type. */
function fromFastifyError(error: FastifyError): ApiError {
  const status = error.statusCode!;
  if (status === 413) return new ApiError(413, "invalid_request_error", "request_too_large", `the request body is too large (${error.message})`);
  if (status === 415) return new ApiError(415, "invalid_request_error", "unsupported_media_type", `${error.message}; send Content-Type: application/json`);
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new ApiError(400, "invalid_request_error", "invalid_json", `could not parse the JSON body of the request: ${error.message}`);
  }
  return new ApiError(status, "invalid_request_error", error.code?.toLowerCase() ?? null, error.message);
}

/** Fastify's error handler: every failure leaves as an OpenAI error. */
export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const api = toApiError(error);
  if (api.status >= 500 && api.code === "internal_error") request.log.error(error);
  if (api.retryAfter !== undefined) void reply.header("retry-after", String(api.retryAfter));
  return reply.code(api.status).type("application/json").send(api.body);
}
