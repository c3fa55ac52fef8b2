/** GET /health: 503 while the model loads (or the server shuts down), 200 once it serves. Never behind the API key. */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

const healthSchema = {
  response: {
    "2xx": { type: "object", properties: { status: { type: "string" }, model: { type: "string" } } },
    "5xx": {
      type: "object",
      properties: {
        status: { type: "string" },
        message: { type: "string" },
        progress: { type: "object", properties: { phase: { type: "string" }, done: { type: "number" }, total: { type: "number" }, unit: { type: "string" } } },
      },
    },
  },
} as const;

export async function healthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get("/health", { schema: healthSchema }, async (_request, reply) => {
    const { slot } = ctx;
    switch (slot.state) {
      case "ready":
        return { status: "ok", model: slot.loaded!.info.name };
      case "loading":
        return reply.code(503).header("retry-after", "1").send({ status: "loading", message: "the model is loading", ...(slot.progress ? { progress: slot.progress } : {}) });
      case "closing":
        return reply.code(503).send({ status: "shutting_down", message: "the server is shutting down" });
      default:
        return reply.code(500).send({ status: "error", message: `the model failed to load: ${slot.error instanceof Error ? slot.error.message : String(slot.error)}` });
    }
  });
}
