/**
 * Starts Bun's HTTP server on the app, with the schedules, the Redis Stream consumer and
 * the shared-registry sync around it. The hot lookup route goes to its handler directly
 * (see onlineFeaturesHandler); every other request goes through the hono app. With
 * --workers N, N − 1 more processes answer lookups on the same port (workers/).
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
import { KafkaStreamConsumer, parseBrokers, parseTopics } from "../push/kafka-consumer.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { authOf } from "./auth.ts";
import { withTimeout } from "./request-timeout.ts";
import { UsageError } from "../errors.ts";
import { listen, listenOptions } from "./listen-options.ts";
import { requestCounter } from "./request-counter.ts";
import { WorkerPool } from "./workers/worker-pool.ts";

const REGISTRY_SYNC_MS = 2_000;

export function startServer(larder: Larder, log: Logger = consoleLogger) {
  // Elsewhere the kernel does not spread one port's connections over processes.
  if (larder.config.workers > 1 && process.platform !== "linux") {
    throw new UsageError(
      `--workers ${larder.config.workers} (LARDER_WORKERS) needs Linux, where processes share a port (SO_REUSEPORT); on ${process.platform}, serve with one process, or run replicas on ports of their own behind a load balancer`,
    );
  }
  larder.via = "serve";
  // Schedules run on this server unless LARDER_SCHEDULES=off (replicas leave them to one).
  const scheduler = new Scheduler(larder, log);
  const schedulesOn = larder.config.schedules === "on";
  const app = createApp(larder, log, scheduler, schedulesOn);
  const { counted, inFlight } = requestCounter(larder.metrics);
  const timeoutMs = larder.config.requestTimeoutMs;
  const handlers = {
    routes: { "/v1/features/online": { POST: counted(withTimeout(onlineFeaturesHandler(larder, log), timeoutMs, log)) } },
    fetch: counted(withTimeout((req) => app.fetch(req), timeoutMs, log)),
  };
  const server = listen({ ...listenOptions(larder.config), ...handlers });
  // --workers N: N − 1 more processes answer lookups on this port and send everything else
  // here, through a listener of this process's own on loopback.
  const forwarded = larder.config.workers > 1 ? listen({ ...listenOptions(larder.config), hostname: "127.0.0.1", port: 0, reusePort: false, ...handlers }) : undefined;
  const workers = forwarded ? new WorkerPool(larder, log, larder.config.workers - 1, server.port!, `http://127.0.0.1:${forwarded.port}`) : undefined;
  // Push sources' Redis Streams, when configured (LARDER_STREAM_REDIS).
  const consumer = larder.config.streamRedis
    ? new RedisStreamConsumer(larder, { url: larder.config.streamRedis, consumer: larder.config.streamConsumer, to: larder.config.streamTo }, log)
    : undefined;
  consumer?.start();
  // Push sources' Kafka topics, when configured (LARDER_STREAM_KAFKA).
  const kafka = larder.config.streamKafka
    ? new KafkaStreamConsumer(
        larder,
        {
          brokers: parseBrokers(larder.config.streamKafka),
          group: larder.config.streamKafkaGroup,
          topics: parseTopics(larder.config.streamKafkaTopics),
          clientId: larder.config.streamConsumer,
          to: larder.config.streamTo,
        },
        log,
      )
    : undefined;
  kafka?.start();
  if (schedulesOn) void scheduler.start().catch((error) => log({ level: "error", event: "schedule.failed", view: "*", error }));
  // A registry shared on S3: applies made elsewhere reach this replica within a few seconds.
  const registrySync = larder.sharesRegistry
    ? setInterval(() => larder.syncRegistry().catch((error) => log({ level: "warn", event: "registry.sync_failed", error })), REGISTRY_SYNC_MS)
    : undefined;
  log({
    level: "info",
    event: "server.started",
    url: `http://${server.hostname}:${server.port}`,
    schedules: schedulesOn,
    auth: authOf(larder.config).enabled,
    workers: larder.config.workers,
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping: Promise<void> | undefined;
  const stop = (signal = "stop()"): Promise<void> => {
    if (stopping) return stopping;
    log({ level: "info", event: "server.stopping", signal, inFlight: inFlight() });
    stopping = (async () => {
      clearInterval(registrySync);
      // Refuse new connections, let requests in flight (and their push batches) finish.
      const draining = Promise.all([server.stop(false), workers?.stop()]).then(() => forwarded?.stop(false));
      await Promise.all([draining, scheduler.stop(), consumer?.stop(), kafka?.stop()]);
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
  return {
    hostname: server.hostname,
    port: server.port,
    stop: () => stop(),
    closed,
    inFlight,
    /** Resolves when every worker listens (at once without workers). */
    workersReady: workers?.ready() ?? Promise.resolve(),
  };
}
