/**
 * A limit on how long a request may take (LARDER_REQUEST_TIMEOUT_MS): past it the client
 * gets `503 request_timeout` rather than waiting on. One sweeping timer serves every
 * request (no timer per request on the hot path); deadlines hold to within 100 ms.
 * The work itself is not cancelled: a push that times out may still be applied (retrying
 * it is safe with an eventIdField).
 */
import type { Logger } from "../log.ts";

type Pending = { at: number; req: Request; resolve(r: Response): void };

export function withTimeout(handler: (req: Request) => Response | Promise<Response>, ms: number, log: Logger): (req: Request) => Response | Promise<Response> {
  const pending = new Set<Pending>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const sweep = () => {
    const now = performance.now();
    for (const p of pending) {
      if (now - p.at < ms) continue;
      pending.delete(p);
      const path = new URL(p.req.url).pathname;
      log({ level: "warn", event: "http.timeout", method: p.req.method, path, ms });
      p.resolve(
        Response.json(
          { code: "request_timeout", message: `${p.req.method} ${path} took longer than ${ms} ms (LARDER_REQUEST_TIMEOUT_MS); it may still complete` },
          { status: 503 },
        ),
      );
    }
    if (pending.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return (req) => {
    const result = handler(req);
    if (result instanceof Response) return result;
    return new Promise<Response>((resolve, reject) => {
      const entry: Pending = { at: performance.now(), req, resolve };
      pending.add(entry);
      timer ??= setInterval(sweep, Math.min(100, ms));
      result.then(
        (r) => pending.delete(entry) && resolve(r),
        (e) => pending.delete(entry) && reject(e),
      );
    });
  };
}
