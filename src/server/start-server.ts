/**
 * Starts Bun's HTTP server on the app; stops on SIGINT/SIGTERM and closes the stores.
 * The hot lookup route goes to its handler directly (see onlineFeaturesHandler); every
 * other request, including other methods on that path, goes through the hono app.
 */
import type { Larder } from "../larder.ts";
import { consoleLogger, type Logger } from "../log.ts";
import { createApp } from "./app.ts";
import { onlineFeaturesHandler } from "./routes/online-features.ts";
import { RedisStreamConsumer } from "../push/redis-stream-consumer.ts";
import { Scheduler } from "../scheduler/scheduler.ts";

const REGISTRY_SYNC_MS = 2_000;

export function startServer(larder: Larder, log: Logger = consoleLogger) {
  larder.via = "serve";
  // Schedules run on this server unless LARDER_SCHEDULES=off (replicas leave them to one).
  const scheduler = new Scheduler(larder, log);
  const schedulesOn = larder.config.schedules === "on";
  const app = createApp(larder, log, scheduler, schedulesOn);
  const server = Bun.serve({
    hostname: larder.config.host,
    port: larder.config.port,
    routes: { "/v1/features/online": { POST: onlineFeaturesHandler(larder, log) } },
    fetch: app.fetch,
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
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const stop = async () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    clearInterval(registrySync);
    await scheduler.stop();
    await consumer?.stop();
    await server.stop();
    await larder.close();
    resolveClosed();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return { hostname: server.hostname, port: server.port, stop, closed };
}
