/** The API key check: an onRequest hook for the route groups that need `Authorization: Bearer <key>`. */
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

/** A hook that lets through only requests carrying `key` (none when `key` is undefined). */
export function requireApiKey(key: string | undefined) {
  const expected = key === undefined ? undefined : Buffer.from(key);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!expected) return;
    const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    if (given === undefined) throw new ApiError(401, "authentication_error", "missing_api_key", "no API key given: send the header Authorization: Bearer <key>");
    const bytes = Buffer.from(given);
    if (bytes.length !== expected.length || !timingSafeEqual(bytes, expected)) throw new ApiError(401, "authentication_error", "invalid_api_key", "incorrect API key");
  };
}
