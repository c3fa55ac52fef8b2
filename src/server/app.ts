/**
 * The HTTP server (Fastify): one plugin per route group — health, the OpenAI API, metrics, the
 * dashboard — errors in the OpenAI shape, request metrics in an onResponse hook, and the model
 * disposed in onClose.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { ServerContext } from "./context.js";
import { ApiError, replyWithError } from "./errors.js";
import { healthRoutes } from "./routes/health.js";
import { openAiRoutes } from "./routes/openai.js";
import { metricsRoutes } from "./routes/metrics.js";
import { dashboardRoutes } from "./routes/dashboard.js";

/** Fastify's own default: 1 MiB */
export const DEFAULT_BODY_LIMIT = 1 << 20;

export function buildApp(ctx: ServerContext, bodyLimit = DEFAULT_BODY_LIMIT): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit,
    // a request with "max_tokens": "5" is malformed, not coerced; nothing is silently dropped
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(404, "not_found_error", "not_found", `no route ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(404).send(error.body);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    ctx.metrics.httpSeconds.observe({ route }, reply.elapsedTime / 1000);
    if (ctx.settings.logRequests) ctx.settings.log(`${request.method} ${request.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(0)} ms`);
  });
  app.addHook("onClose", async () => {
    await ctx.slot.dispose();
  });
  app.register(healthRoutes, ctx);
  app.register(openAiRoutes, ctx);
  app.register(metricsRoutes, ctx);
  app.register(dashboardRoutes, ctx);
  return app;
}
