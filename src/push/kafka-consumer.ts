/**
 * Kafka topics → pushes (LARDER_STREAM_KAFKA), with the Redis Stream consumer's semantics.
 * One topic per push source (`larder.push.<name>`, or as LARDER_STREAM_KAFKA_TOPICS maps
 * it), each message's value the row as JSON. Read by kafkajs (pure JavaScript: it embeds in
 * the executable) in a consumer group, so several `larder serve` replicas share the
 * partitions and take over a stopped one's:
 * - a batch's offsets are committed only after its push has committed (online, and the
 *   offline segment when pushed there); a replica that dies in between leaves them to be
 *   read again, and a redelivered row counts once when the push source has an
 *   `eventIdField` (the push dedupes by it);
 * - a message refused (not JSON, a row the schema or an expectation refuses) goes to
 *   `<topic>.dead` with the reason in its headers at once; one that fails for another
 *   reason is tried again with backoff, up to MAX_TRIES times, then dead-lettered too: the
 *   partition never waits longer than that on one message;
 * - an online store or offline storage that is unreachable is no message's fault: the
 *   batch waits and is tried again, with no try counted, while this replica owns it.
 */
import { Kafka, type Consumer, type EachBatchPayload, logLevel, type Producer } from "kafkajs";
import type { Larder } from "../larder.ts";
import { LarderError, OnlineStoreError, StorageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PushMode } from "./push.ts";
import { validateRows } from "./push-rows.ts";

export type KafkaConsumerOptions = {
  /** `host:port` of one or more brokers. */
  brokers: string[];
  group?: string;
  /** Push source → topic, where not `larder.push.<push source>`. */
  topics?: Record<string, string>;
  to?: PushMode;
  clientId?: string;
  /** How long the group waits for a silent replica before giving its partitions to others. */
  sessionTimeoutMs?: number;
  /** The wait before a failing message's second try (then doubling, up to 5 s). */
  retryMs?: number;
  /** How often the registry is checked for push sources added or removed. */
  watchMs?: number;
};

/** Tries of a message that keeps failing (not refused: failing) before it is dead-lettered. */
export const MAX_TRIES = 5;
export const DEFAULT_TOPIC_PREFIX = "larder.push.";
const DEAD_SUFFIX = ".dead";

const isOutage = (err: unknown) => err instanceof OnlineStoreError || err instanceof StorageError;

/** `LARDER_STREAM_KAFKA`: `host:port,host:port`, with or without `kafka://`. */
export const parseBrokers = (s: string) =>
  s
    .replace(/^kafka:\/\//, "")
    .split(",")
    .map((b) => b.trim().replace(/^kafka:\/\//, ""))
    .filter(Boolean);

/** `LARDER_STREAM_KAFKA_TOPICS`: `push_source=topic,…`. */
export const parseTopics = (s: string): Record<string, string> =>
  Object.fromEntries(
    s
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => p.split("=").map((x) => x.trim()) as [string, string]),
  );

export class KafkaStreamConsumer {
  readonly #opts: Required<KafkaConsumerOptions>;
  readonly #kafka: Kafka;
  #consumer: Consumer | undefined;
  #producer: Producer | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  /** The topics subscribed to, by push source. */
  #subscribed = new Map<string, string>();
  /** Rows pushed and committed since start, and messages dead-lettered. */
  entries = 0;
  dead = 0;

  constructor(
    private readonly larder: Larder,
    opts: KafkaConsumerOptions,
    private readonly log: Logger,
  ) {
    this.#opts = { group: "larder", topics: {}, to: "online", clientId: "larder", sessionTimeoutMs: 10_000, retryMs: 200, watchMs: 3000, ...opts };
    this.#kafka = new Kafka({
      clientId: this.#opts.clientId,
      brokers: this.#opts.brokers,
      logLevel: logLevel.ERROR,
      // kafkajs' own errors (it retries them itself: a coordinator not ready yet, a broker away) as warnings.
      logCreator: () => (entry) => {
        if (this.#stopping) return;
        this.log({ level: "warn", event: "stream.client", stream: `kafka ${this.#opts.brokers.join(",")}`, message: entry.log.message, error: entry.log.error });
      },
    });
  }

  topicOf(source: string): string {
    return this.#opts.topics[source] ?? `${DEFAULT_TOPIC_PREFIX}${source}`;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    this.#producer = this.#kafka.producer({ allowAutoTopicCreation: true });
    try {
      await this.#producer.connect();
      while (!this.#stopping) {
        const wanted = this.#wanted();
        if (!sameTopics(wanted, this.#subscribed)) await this.#subscribe(wanted);
        await Bun.sleep(this.#opts.watchMs);
      }
    } catch (err) {
      this.log({ level: "error", event: "stream.failed", stream: `kafka ${this.#opts.brokers.join(",")}`, error: err });
      if (!this.#stopping) {
        // Started again from the top: a broker that was down may be up by then.
        await Bun.sleep(1000);
        this.#running = undefined;
        this.#subscribed = new Map();
        await this.#consumer?.disconnect().catch(() => {});
        this.#consumer = undefined;
        if (!this.#stopping) this.start();
      }
    } finally {
      if (this.#stopping) {
        await this.#consumer?.disconnect().catch(() => {});
        await this.#producer.disconnect().catch(() => {});
      }
    }
  }

  #wanted(): Map<string, string> {
    return new Map(
      this.larder
        .registry()
        .pushSources()
        .map((p) => [p.name, this.topicOf(p.name)]),
    );
  }

  /** (Re)joins the group for the push sources' topics, creating topics that do not exist. */
  async #subscribe(wanted: Map<string, string>): Promise<void> {
    await this.#consumer?.disconnect();
    this.#consumer = undefined;
    this.#subscribed = wanted;
    if (wanted.size === 0) return;
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [...wanted.values()].filter((t) => !existing.has(t));
      if (missing.length) await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const consumer = this.#kafka.consumer({
      groupId: this.#opts.group,
      sessionTimeout: this.#opts.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.#opts.sessionTimeoutMs / 5)),
      rebalanceTimeout: this.#opts.sessionTimeoutMs * 3,
    });
    // A consumer kafkajs gives up on (not restarting it itself) is joined again by the watch loop.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.#consumer !== consumer) return;
      this.log({ level: "error", event: "stream.failed", stream: [...wanted.values()].join(","), error: payload.error });
      this.#subscribed = new Map();
    });
    await consumer.connect();
    // From the topic's start: messages written before Larder first ran count too.
    await consumer.subscribe({ topics: [...wanted.values()], fromBeginning: true });
    this.#consumer = consumer;
    const sourceOf = new Map([...wanted].map(([s, t]) => [t, s]));
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.#batch(consumer, sourceOf.get(p.batch.topic)!, p) });
  }

  /** Pushes one partition's batch, then commits its offsets; dead letters go out first. */
  async #batch(consumer: Consumer, source: string, { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const at = `${batch.topic}[${batch.partition}]`;
    const owned = () => isRunning() && !isStale() && !this.#stopping;
    const registry = this.larder.registry();
    const push = registry.pushSource(source);
    const schema = registry.source(push.batchSource);
    const good: { offset: string; row: unknown }[] = [];
    const dead: { offset: string; raw: string; reason: string }[] = [];
    for (const m of batch.messages) {
      const raw = m.value?.toString("utf8") ?? "";
      try {
        const row = JSON.parse(raw) as unknown;
        validateRows(schema, source, [row], push.eventIdField);
        good.push({ offset: m.offset, row });
      } catch (err) {
        dead.push({ offset: m.offset, raw, reason: (err as Error).message });
      }
    }
    // The batch at once, or row by row to find the ones at fault; an outage waits.
    for (;;) {
      try {
        if (good.length) await this.larder.push({ source, rows: good.map((g) => g.row), to: this.#opts.to });
        this.entries += good.length;
        good.length = 0;
        break;
      } catch (err) {
        if (isOutage(err)) {
          if (!owned()) return; // not committed: the partition's next owner reads it again
          this.log({ level: "error", event: "stream.failed", stream: at, error: err });
          await Bun.sleep(1000);
          await heartbeat();
          continue;
        }
        try {
          await this.#oneByOne(source, at, good, dead, heartbeat);
          break;
        } catch (e) {
          if (!isOutage(e)) throw e;
          if (!owned()) return;
          // `good` now holds only the rows not yet applied: they wait for the outage to end.
          await Bun.sleep(1000);
          await heartbeat();
        }
      }
    }
    if (dead.length) {
      await this.#producer!.send({
        topic: `${batch.topic}${DEAD_SUFFIX}`,
        messages: dead.map((d) => ({ value: d.raw, headers: { reason: d.reason.slice(0, 4000), topic: batch.topic, partition: String(batch.partition), offset: d.offset } })),
      });
      for (const d of dead) this.log({ level: "warn", event: "stream.dead_letter", stream: at, id: d.offset, reason: d.reason });
      this.dead += dead.length;
    }
    // Done here: the next fetch starts after it (kafkajs fetches an unresolved batch again).
    resolveOffset(batch.lastOffset());
    const next = String(BigInt(batch.lastOffset()) + 1n);
    try {
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    } catch (err) {
      // Rebalanced away meanwhile: the next owner reads these again, and event ids count them once.
      this.log({ level: "warn", event: "stream.retry", stream: at, id: next, tries: 1, error: err });
    }
    await heartbeat();
  }

  /**
   * Each row alone: refused ones and ones failing MAX_TRIES times go to `dead`, the rest are
   * applied; each leaves `good` as it is done. An outage is thrown, with `good` holding the
   * rows not yet applied.
   */
  async #oneByOne(
    source: string,
    at: string,
    good: { offset: string; row: unknown }[],
    dead: { offset: string; raw: string; reason: string }[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    while (good.length) {
      const g = good[0]!;
      for (let tries = 1; ; tries++) {
        try {
          await this.larder.push({ source, rows: [g.row], to: this.#opts.to });
          this.entries++;
          break;
        } catch (e) {
          if (isOutage(e)) throw e;
          const refused = e instanceof LarderError && e.status < 500;
          if (refused || tries >= MAX_TRIES) {
            dead.push({ offset: g.offset, raw: JSON.stringify(g.row), reason: refused ? (e as Error).message : `failed ${tries} times; the last: ${(e as Error).message}` });
            break;
          }
          this.log({ level: "warn", event: "stream.retry", stream: at, id: g.offset, tries, error: e as Error });
          await Bun.sleep(Math.min(5000, this.#opts.retryMs * 2 ** (tries - 1)));
          await heartbeat();
        }
      }
      good.shift();
    }
  }
}

const sameTopics = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
