/**
 * The OpenAI-compatible API: GET /v1/models, POST /v1/completions, POST /v1/chat/completions
 * (whole or streamed). Behind the API key when the server has one.
 */
import type { FastifyInstance, FastifyRequest, FastifyReply } from "fastify";
import type { ServerContext } from "../context.js";
import { requireApiKey } from "../auth.js";
import { chatShape, completionOptions, textShape } from "../openaiShapes.js";
import { answerCompletion } from "../respond.js";
import { chatCompletionSchema, type ChatCompletionRequest } from "../schemas/chat.js";
import { completionSchema, type CompletionRequest } from "../schemas/completions.js";
import { errorResponses } from "../schemas/common.js";

const modelsSchema = {
  response: {
    200: {
      type: "object",
      properties: {
        object: { type: "string" },
        data: {
          type: "array",
          items: { type: "object", properties: { id: { type: "string" }, object: { type: "string" }, created: { type: "integer" }, owned_by: { type: "string" } } },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export async function openAiRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.addHook("onRequest", requireApiKey(ctx.settings.apiKey));
  const loadedAt = Math.floor(Date.now() / 1000);

  app.get("/v1/models", { schema: modelsSchema }, async () => {
    const model = ctx.slot.get();
    return { object: "list", data: [{ id: model.info.name, object: "model", created: loadedAt, owned_by: "layerstream" }] };
  });

  app.post("/v1/completions", { schema: completionSchema }, (request: FastifyRequest<{ Body: CompletionRequest }>, reply: FastifyReply) => {
    const body = request.body;
    const prompt = Array.isArray(body.prompt) && typeof body.prompt[0] === "string" ? (body.prompt[0] as string) : (body.prompt as string | number[]);
    return answerCompletion(ctx, reply, {
      body,
      start: (model, signal) => model.stream(prompt, completionOptions(body, model, signal)),
      shape: textShape,
      promptField: "prompt",
    });
  });

  app.post("/v1/chat/completions", { schema: chatCompletionSchema }, (request: FastifyRequest<{ Body: ChatCompletionRequest }>, reply: FastifyReply) => {
    const body = request.body;
    const enableThinking = body.chat_template_kwargs?.enable_thinking;
    return answerCompletion(ctx, reply, {
      body,
      start: (model, signal) =>
        model.chat(body.messages, {
          ...completionOptions(body, model, signal, body.max_completion_tokens ?? body.max_tokens),
          ...(body.tools ? { tools: body.tools } : {}),
          ...(enableThinking !== undefined ? { enableThinking } : {}),
        }),
      shape: chatShape,
      promptField: "messages",
    });
  });
}
