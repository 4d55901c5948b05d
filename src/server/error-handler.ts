/** The one place errors become HTTP answers: `{ code, message }` with the error's status. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { LarderError } from "../errors.ts";
import type { Logger } from "../log.ts";

export const errorHandler = (log: Logger) => (err: Error, c: Context): Response => {
  const response = errorResponse(err, c);
  if (response.status >= 500) {
    log({ level: "error", event: "http.server_error", method: c.req.method, path: new URL(c.req.url).pathname, error: err });
  }
  return response;
};

export function errorResponse(err: Error, c: Context): Response {
  if (err instanceof LarderError) {
    return c.json({ code: err.code, message: err.message }, err.status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException) {
    return c.json({ code: "http_error", message: err.message || "request failed" }, err.status);
  }
  return c.json({ code: "internal_error", message: "internal error; see the server log" }, 500);
}
