/** Requests in flight (for shutdown) and each answer's route, status and time (for /metrics). */
import type { LarderMetrics } from "../monitoring/larder-metrics.ts";

type Handler = (req: Request) => Response | Promise<Response>;

/** The path and query of a request URL, without building a URL object (this runs for every request). */
export function pathAndQuery(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}

/** The path of a request URL, as pathAndQuery finds it. */
export function pathOf(url: string): string {
  const path = pathAndQuery(url);
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

export function requestCounter(metrics: LarderMetrics) {
  let inFlight = 0;
  const counted =
    (handler: Handler): Handler =>
    (req) => {
      inFlight++;
      const began = performance.now();
      const done = (res: Response) => {
        inFlight--;
        metrics.request(req.method, pathOf(req.url), res.status, (performance.now() - began) / 1000);
        return res;
      };
      let r: Response | Promise<Response>;
      try {
        r = handler(req);
      } catch (err) {
        inFlight--;
        throw err;
      }
      if (r instanceof Response) return done(r);
      return r.then(done, (err) => {
        inFlight--;
        throw err;
      });
    };
  return { counted, inFlight: () => inFlight };
}
