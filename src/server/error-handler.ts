/**
 * The one place errors become HTTP answers: `{ code, message }` with the error's status.
 * Paths inside the feature repo are given relative to it: a client has no use for the
 * server's folders, and should not learn them.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { resolve, sep } from "node:path";
import { LarderError } from "../errors.ts";
import type { Logger } from "../log.ts";

export function errorResponse(err: unknown, repo?: string): Response {
  if (err instanceof LarderError) {
    return Response.json(
      { code: err.code, message: repo ? relativeToRepo(err.message, repo) : err.message },
      { status: err.status, headers: err.status === 401 ? { "www-authenticate": "Bearer" } : undefined },
    );
  }
  if (err instanceof HTTPException) return Response.json({ code: "http_error", message: err.message || "request failed" }, { status: err.status });
  return Response.json({ code: "internal_error", message: "internal error; see the server log" }, { status: 500 });
}

/** `text` with every absolute path under `repo` made relative to it ("data/events.csv"). */
export function relativeToRepo(text: string, repo: string): string {
  const root = resolve(repo);
  return text.replaceAll(`${root}${sep}`, "").replaceAll(root, ".");
}

/** errorResponse, logging server errors (5xx) with the request they answer. */
export function answerError(err: unknown, req: Request, log: Logger, repo: string): Response {
  const response = errorResponse(err, repo);
  if (response.status >= 500) {
    log({ level: "error", event: "http.server_error", method: req.method, path: new URL(req.url).pathname, error: err as Error });
  }
  return response;
}

/** For hono's onError. */
export const errorHandler =
  (log: Logger, repo: string) =>
  (err: Error, c: Context): Response =>
    answerError(err, c.req.raw, log, repo);
