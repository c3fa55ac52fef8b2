/** GET /metrics: Prometheus text (prom-client); the model's counters are read at each scrape. */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

const metricsSchema = { response: { 200: { type: "string" } } } as const;

export async function metricsRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get("/metrics", { schema: metricsSchema }, async (_request, reply) => {
    const model = ctx.slot.loaded;
    ctx.metrics.update(model, model ? await ctx.stats.get(model) : undefined);
    return reply.type(ctx.metrics.contentType).send(await ctx.metrics.render());
  });
}
