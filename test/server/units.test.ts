/** The server's small parts on their own: the rate window, the OpenAI error mapping, the options a request becomes. */
import { describe, expect, it } from "vitest";
import { RateWindow } from "../../src/server/rateWindow.js";
import { ApiError, toApiError } from "../../src/server/errors.js";
import { completionOptions, finishReason } from "../../src/server/openaiShapes.js";
import { AbortError, LayerstreamError, OptionError, QueueFullError, type LoadedModel } from "../../src/index.js";

describe("RateWindow", () => {
  it("counts events per second over its window and forgets older ones", () => {
    let now = 0;
    const rate = new RateWindow(1000, 100, () => now);
    for (let i = 0; i < 10; i++) {
      rate.add(5);
      now += 50;
    }
    expect(rate.perSecond()).toBe(50); // 50 events within the last second
    now += 2000;
    expect(rate.perSecond()).toBe(0);
  });
});

describe("toApiError", () => {
  it("maps layerstream's errors to OpenAI statuses, types and codes", () => {
    const cases: [unknown, number, string, string | null][] = [
      [new QueueFullError(3), 429, "rate_limit_error", "queue_full"],
      [new OptionError("BAD_OPTION", "completion option x"), 400, "invalid_request_error", "bad_option"],
      [new OptionError("CONTEXT_FULL", "context is full"), 400, "invalid_request_error", "context_length_exceeded"],
      [new LayerstreamError("DISPOSED", "disposed"), 503, "server_error", "server_shutting_down"],
      [new AbortError(), 499, "invalid_request_error", "cancelled"],
      [new Error("boom"), 500, "server_error", "internal_error"],
      [Object.assign(new Error("Request body is too large"), { statusCode: 413, code: "FST_ERR_CTP_BODY_TOO_LARGE" }), 413, "invalid_request_error", "request_too_large"],
      [new ApiError(401, "authentication_error", "invalid_api_key", "no"), 401, "authentication_error", "invalid_api_key"],
    ];
    for (const [error, status, type, code] of cases) {
      const api = toApiError(error);
      expect([api.status, api.type, api.code], String(error)).toEqual([status, type, code]);
      expect(Object.keys(api.body.error)).toEqual(["message", "type", "param", "code"]);
    }
    expect(toApiError(new QueueFullError(1)).retryAfter).toBe(1);
  });

  it("names the field a schema rejected", () => {
    const validation = Object.assign(new Error("body/messages/0/role must be equal to one of the allowed values"), {
      statusCode: 400,
      validation: [{ instancePath: "/messages/0/role", keyword: "enum", params: {}, message: "must be equal to one of the allowed values" }],
      validationContext: "body",
    });
    expect(toApiError(validation)).toMatchObject({ status: 400, param: "messages.0.role", code: "invalid_value" });
    const missing = Object.assign(new Error("x"), { statusCode: 400, validation: [{ instancePath: "", keyword: "required", params: { missingProperty: "messages" }, message: "must have required property 'messages'" }] });
    expect(toApiError(missing).param).toBe("messages");
  });
});

describe("request → completion options", () => {
  const model = { info: { contextSize: 2048 } } as LoadedModel;
  const signal = new AbortController().signal;

  it("maps OpenAI and llama.cpp fields, drops nulls, and runs to the end of the context without max_tokens", () => {
    expect(completionOptions({ temperature: 0.2, top_p: 0.9, top_k: 10, min_p: null, seed: 7, stop: ["\\n"], ignore_eos: true, frequency_penalty: 0.5 }, model, signal)).toEqual({
      maxTokens: 2048,
      temperature: 0.2,
      topP: 0.9,
      topK: 10,
      seed: 7,
      stop: ["\\n"],
      ignoreEos: true,
      frequencyPenalty: 0.5,
      signal,
    });
    expect(completionOptions({ max_tokens: 5 }, model, signal).maxTokens).toBe(5);
    expect(completionOptions({ max_tokens: 5 }, model, signal, 9).maxTokens).toBe(9);
  });

  it("says length for max-tokens and a full context, stop otherwise", () => {
    expect(["eos", "stop", "max-tokens", "context-full"].map((r) => finishReason(r as never))).toEqual(["stop", "stop", "length", "length"]);
  });
});
