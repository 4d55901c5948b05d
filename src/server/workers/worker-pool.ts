/**
 * The primary's side of `larder serve --workers N`: it starts N − 1 lookup workers
 * (lookup-worker.ts) on its own port, adds their counts and samples to its own, starts a
 * worker again when one dies, and stops them when it stops.
 */
import type { Subprocess } from "bun";
import type { Larder } from "../../larder.ts";
import type { Logger } from "../../log.ts";
import { WorkerError } from "../../errors.ts";
import { larderCommand } from "./larder-command.ts";
import { PRIMARY_URL_ENV, type WorkerMessage } from "./worker-messages.ts";

/** A worker that dies sooner than this after starting is started again after a growing pause. */
const STABLE_MS = 10_000;
const MAX_PAUSE_MS = 30_000;

export class WorkerPool {
  readonly #workers = new Set<Subprocess>();
  #stopping = false;
  #pauseMs = 500;
  readonly #ready: Promise<void>;

  /** `port`: the port the primary got (it may have asked for 0); `primaryUrl`: its private listener. */
  constructor(
    readonly larder: Larder,
    readonly log: Logger,
    readonly count: number,
    readonly port: number,
    readonly primaryUrl: string,
  ) {
    this.#ready = Promise.all(Array.from({ length: count }, () => this.#start())).then(() => {});
    // Not an unhandled rejection when nobody waits (the demo, a test); ready() still rejects.
    this.#ready.catch(() => {});
  }

  /** Resolves when every first worker listens; rejects if one exits before it does. */
  ready(): Promise<void> {
    return this.#ready;
  }

  #start(): Promise<void> {
    const { config } = this.larder;
    const startedAt = performance.now();
    let listening!: () => void;
    let failed!: (err: WorkerError) => void;
    const ready = new Promise<void>((resolve, reject) => ((listening = resolve), (failed = reject)));
    const worker = Bun.spawn([...larderCommand(), "serve", "--repo", config.repoDir, "--data-dir", config.dataDir, "--host", config.host, "--port", String(this.port)], {
      // Schedules and the stream consumer stay with the primary; a worker starts no workers.
      env: { ...process.env, LARDER_WORKERS: String(config.workers), LARDER_SCHEDULES: "off", LARDER_STREAM_REDIS: "", [PRIMARY_URL_ENV]: this.primaryUrl },
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
      ipc: (message: WorkerMessage) => {
        if (message.type === "ready") {
          this.log({ level: "info", event: "server.worker_ready", pid: worker.pid });
          listening();
        } else if (message.type === "counts") {
          this.larder.metrics.registry.absorb(message.metrics);
          this.larder.served.absorb(message.served);
        }
      },
      onExit: (_proc, code, signal) => {
        this.#workers.delete(worker);
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        failed(new WorkerError(`a larder serve worker exited before it listened (${how}); its messages are above`));
        if (this.#stopping) return;
        this.log({ level: "error", event: "server.worker_exited", pid: worker.pid, code, signal: signal === null || signal === undefined ? null : String(signal) });
        const stable = performance.now() - startedAt > STABLE_MS;
        this.#pauseMs = stable ? 500 : Math.min(this.#pauseMs * 2, MAX_PAUSE_MS);
        setTimeout(() => void (this.#stopping || this.#start().catch(() => {})), this.#pauseMs);
      },
    });
    this.#workers.add(worker);
    return ready;
  }

  /** Stops every worker (each finishes its requests in flight) and waits for them to exit. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers].map((w) => {
      w.kill("SIGTERM");
      return w.exited;
    });
    await Promise.all(exits);
  }
}
