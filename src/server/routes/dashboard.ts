/**
 * The dashboard: GET / is the page (self-contained; its Content-Security-Policy lets it talk to
 * this server only), GET /dashboard/status the JSON it polls (behind the API key, as /v1 is).
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { requireApiKey } from "../auth.js";
import { dashboardPage } from "../dashboard/page.js";
import { serverStatus } from "../status.js";
import { errorResponses } from "../schemas/common.js";

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

const pageSchema = { response: { 200: { type: "string" } } } as const;
/** the status object is open-ended (nodes, cache, totals): described loosely, serialized as is */
const statusSchema = { response: { 200: { type: "object", additionalProperties: true }, ...errorResponses } } as const;

export async function dashboardRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const page = dashboardPage();
  app.get("/", { schema: pageSchema }, async (_request, reply) => reply.type("text/html; charset=utf-8").header("content-security-policy", CSP).header("cache-control", "no-cache").send(page));

  app.register(async (secured) => {
    secured.addHook("onRequest", requireApiKey(ctx.settings.apiKey));
    secured.get("/dashboard/status", { schema: statusSchema }, async (_request, reply) => reply.header("cache-control", "no-store").send(await serverStatus(ctx)));
  });
}
