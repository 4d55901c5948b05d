/**
 * Starts Bun's HTTP server on the app, with the schedules, the Redis Stream consumer and
 * the shared-registry sync around it. The hot lookup route goes to its handler directly
 * (see onlineFeaturesHandler); every other request goes through the hono app.
 *
 * Stopping (SIGTERM/SIGINT, or stop()): no new connections; requests in flight finish,
 * and with them the push batch they are in; the running scheduled materialization ends;
 * then the stores close. A second signal exits at once (the online store's transactions
 * keep it whole: a write that was not committed is simply not there).
 */
import type { Larder } from "../larder.ts";
import { consoleLogger, type Logger } from "../log.ts";
import { createApp } from "./app.ts";
import { onlineFeaturesHandler } from "./routes/online-features.ts";
import { RedisStreamConsumer } from "../push/redis-stream-consumer.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { authOf } from "./auth.ts";
import { withTimeout } from "./request-timeout.ts";

const REGISTRY_SYNC_MS = 2_000;

/** The path of a request URL, without building a URL object (this runs for every request). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", start);
  return start < 0 ? "/" : url.slice(start, q < 0 ? undefined : q);
}

export function startServer(larder: Larder, log: Logger = consoleLogger) {
  larder.via = "serve";
  // Schedules run on this server unless LARDER_SCHEDULES=off (replicas leave them to one).
  const scheduler = new Scheduler(larder, log);
  const schedulesOn = larder.config.schedules === "on";
  const app = createApp(larder, log, scheduler, schedulesOn);
  let inFlight = 0;
  // Counts requests in flight (for shutdown) and records each answer's route, status and time.
  const counted = (handler: (req: Request) => Response | Promise<Response>) => (req: Request): Response | Promise<Response> => {
    inFlight++;
    const began = performance.now();
    const done = (res: Response) => {
      inFlight--;
      larder.metrics.request(req.method, pathOf(req.url), res.status, (performance.now() - began) / 1000);
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
  const timeoutMs = larder.config.requestTimeoutMs;
  const server = Bun.serve({
    hostname: larder.config.host,
    port: larder.config.port,
    routes: { "/v1/features/online": { POST: counted(withTimeout(onlineFeaturesHandler(larder, log), timeoutMs, log)) } },
    fetch: counted(withTimeout((req) => app.fetch(req), timeoutMs, log)),
    // Bodies are checked against maxBodyBytes (with a JSON 413) when read; this only keeps
    // Bun from buffering far larger chunked bodies first.
    maxRequestBodySize: Math.max(4 * larder.config.maxBodyBytes, 65_536),
  });
  // Push sources' Redis Streams, when configured (LARDER_STREAM_REDIS).
  const consumer = larder.config.streamRedis
    ? new RedisStreamConsumer(larder, { url: larder.config.streamRedis, consumer: larder.config.streamConsumer, to: larder.config.streamTo }, log)
    : undefined;
  consumer?.start();
  if (schedulesOn) void scheduler.start().catch((error) => log({ level: "error", event: "schedule.failed", view: "*", error }));
  // A registry shared on S3: applies made elsewhere reach this replica within a few seconds.
  const registrySync = larder.sharesRegistry
    ? setInterval(() => larder.syncRegistry().catch((error) => log({ level: "warn", event: "registry.sync_failed", error })), REGISTRY_SYNC_MS)
    : undefined;
  log({ level: "info", event: "server.started", url: `http://${server.hostname}:${server.port}`, schedules: schedulesOn, auth: authOf(larder.config).enabled });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping: Promise<void> | undefined;
  const stop = (signal = "stop()"): Promise<void> => {
    if (stopping) return stopping;
    log({ level: "info", event: "server.stopping", signal, inFlight });
    stopping = (async () => {
      clearInterval(registrySync);
      // Refuse new connections, let requests in flight (and their push batches) finish.
      const draining = server.stop(false);
      await Promise.all([draining, scheduler.stop(), consumer?.stop()]);
      await larder.close();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      log({ level: "info", event: "server.stopped" });
      resolveClosed();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log({ level: "warn", event: "server.forced_exit", signal });
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    void stop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { hostname: server.hostname, port: server.port, stop: () => stop(), closed, inFlight: () => inFlight };
}
