/** The one place errors become HTTP answers: `{ code, message }` with the error's status. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { LarderError } from "../errors.ts";
import type { Logger } from "../log.ts";

export function errorResponse(err: unknown): Response {
  if (err instanceof LarderError) {
    return Response.json({ code: err.code, message: err.message }, { status: err.status, headers: err.status === 401 ? { "www-authenticate": "Bearer" } : undefined });
  }
  if (err instanceof HTTPException) return Response.json({ code: "http_error", message: err.message || "request failed" }, { status: err.status });
  return Response.json({ code: "internal_error", message: "internal error; see the server log" }, { status: 500 });
}

/** errorResponse, logging server errors (5xx) with the request they answer. */
export function answerError(err: unknown, req: Request, log: Logger): Response {
  const response = errorResponse(err);
  if (response.status >= 500) {
    log({ level: "error", event: "http.server_error", method: req.method, path: new URL(req.url).pathname, error: err as Error });
  }
  return response;
}

/** For hono's onError. */
export const errorHandler =
  (log: Logger) =>
  (err: Error, c: Context): Response =>
    answerError(err, c.req.raw, log);
