/**
 * A lookup worker: one of the extra processes `larder serve --workers N` starts. It listens
 * on the primary's port (SO_REUSEPORT: the kernel spreads connections over the processes)
 * and answers what only reads the online store itself: lookups (Larder's and Feast's) and
 * scoring, from the same LMDB files (or Redis). Every other request goes on to the primary
 * over loopback, so pushes, schedules, runs, the UI and /metrics each have one home. Its
 * request counts and sampled served values reach the primary every second.
 *
 * It stops on SIGTERM/SIGINT (as the primary stops it) and when the primary goes away.
 */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";
import type { Logger } from "../../log.ts";
import { WorkerError } from "../../errors.ts";
import { authOf } from "../auth.ts";
import { errorHandler, errorResponse } from "../error-handler.ts";
import { listenOptions } from "../listen-options.ts";
import { pathAndQuery, requestCounter } from "../request-counter.ts";
import { withTimeout } from "../request-timeout.ts";
import { onlineFeaturesHandler } from "../routes/online-features.ts";
import { feastOnlineFeaturesHandler } from "../routes/feast-online-features.ts";
import { scoreRoutes } from "../routes/score-routes.ts";
import { COUNTS_EVERY_MS, type WorkerMessage } from "./worker-messages.ts";

/** The same request, asked of the primary; its answer as it is. */
async function forward(req: Request, primaryUrl: string): Promise<Response> {
  try {
    return await fetch(primaryUrl + pathAndQuery(req.url), { method: req.method, headers: req.headers, body: req.body, redirect: "manual" });
  } catch (err) {
    return errorResponse(new WorkerError(`this worker cannot reach the primary larder serve process: ${(err as Error).message}`));
  }
}

export function startLookupWorker(larder: Larder, log: Logger, primaryUrl: string): { closed: Promise<void> } {
  larder.via = "serve";
  const { counted } = requestCounter(larder.metrics);
  const auth = authOf(larder.config);
  const served = (handler: (req: Request) => Response | Promise<Response>) => counted(withTimeout(handler, larder.config.requestTimeoutMs, log));
  // Scoring as the primary's app has it: the route's scope checked, errors as { code, message }.
  const scoring = new Hono()
    .use("*", async (c, next) => {
      auth.checkRoute(c.req.raw, c.req.method, c.req.path);
      await next();
    })
    .route("/", scoreRoutes(larder));
  scoring.onError(errorHandler(log, larder.config.repoDir));
  const server = Bun.serve({
    ...listenOptions(larder.config),
    routes: {
      "/v1/features/online": { POST: served(onlineFeaturesHandler(larder, log, auth)) },
      "/get-online-features": { POST: served(feastOnlineFeaturesHandler(larder, log, auth)) },
      "/v1/score/:model": { POST: served((req) => scoring.fetch(req)) },
    },
    fetch: (req) => forward(req, primaryUrl),
  });
  const send = (message: WorkerMessage) => process.send?.(message);
  const sendCounts = () => send({ type: "counts", metrics: larder.metrics.registry.drain(), served: larder.served.drain() });
  const timer = setInterval(sendCounts, COUNTS_EVERY_MS);
  send({ type: "ready" });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    // Lookups in flight finish; their counts go with the last message.
    await server.stop(false);
    if (process.connected) {
      sendCounts();
      // The channel would keep this process alive.
      process.disconnect?.();
    }
    await larder.close();
    resolveClosed();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The primary gone (killed, crashed): nothing would stop this process otherwise.
  process.on("disconnect", stop);
  return { closed };
}
