/**
 * Redis Streams → pushes. One stream per push source (`<prefix><push source>`, default
 * `larder:push:<name>`), each entry a field `row` holding the row as JSON. Read through a
 * consumer group with Bun's built-in Redis client:
 * - an entry is acknowledged only after the push holding it has committed;
 * - on start the consumer first re-reads its own unacknowledged entries (a restart after
 *   a crash resumes where it stopped), then new ones;
 * - a redelivered entry is not counted twice when the push source has an `eventIdField`;
 * - an entry that cannot be pushed (not JSON, a row the schema refuses) goes to
 *   `<stream>:dead` with the reason, and is acknowledged, so one bad entry never blocks
 *   the stream.
 */
import { RedisClient } from "bun";
import type { Larder } from "../larder.ts";
import { LarderError, ExpectationFailedError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PushMode } from "./push.ts";
import { validateRows } from "./push-rows.ts";

export type StreamConsumerOptions = {
  url: string;
  prefix?: string;
  group?: string;
  /** Stable across restarts, so the consumer finds its unacknowledged entries again. */
  consumer?: string;
  to?: PushMode;
  batch?: number;
  blockMs?: number;
  /** Called after a batch's push commits and before it is acknowledged (tests use it to crash there). */
  beforeAck?: (ids: string[]) => Promise<void> | void;
};

type Entry = [id: string, fields: string[]];

export class RedisStreamConsumer {
  readonly #client: RedisClient;
  readonly #opts: Required<Omit<StreamConsumerOptions, "beforeAck">> & Pick<StreamConsumerOptions, "beforeAck">;
  #running: Promise<void> | undefined;
  #stopping = false;
  /** Streams whose pending entries were all re-read (from then on: new entries only). */
  readonly #caughtUp = new Set<string>();
  readonly #groups = new Set<string>();
  /** Entries pushed and acknowledged since start. */
  entries = 0;

  constructor(private readonly larder: Larder, opts: StreamConsumerOptions, private readonly log: Logger) {
    this.#opts = { prefix: "larder:push:", group: "larder", consumer: "larder", to: "online", batch: 500, blockMs: 500, ...opts };
    this.#client = new RedisClient(opts.url);
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    this.#client.close();
  }

  /** Resolves when the loop has ended (stopped, or failed: the error is logged and rethrown). */
  get done(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      const sources = Object.keys(this.larder.registry().data.pushSources ?? {}).sort();
      if (sources.length === 0) {
        await Bun.sleep(this.#opts.blockMs);
        continue;
      }
      const keys = sources.map((s) => this.#opts.prefix + s);
      for (const key of keys) await this.#ensureGroup(key);
      const ids = keys.map((k) => (this.#caughtUp.has(k) ? ">" : "0"));
      const pendingOnly = ids.every((id) => id === "0");
      let reply: unknown;
      try {
        reply = await this.#client.send("XREADGROUP", [
          "GROUP", this.#opts.group, this.#opts.consumer, "COUNT", String(this.#opts.batch),
          // Re-reading pending entries must not block: there may be none.
          ...(pendingOnly ? [] : ["BLOCK", String(this.#opts.blockMs)]),
          "STREAMS", ...keys, ...ids,
        ]);
      } catch (err) {
        if (this.#stopping) break;
        this.log({ level: "error", event: "stream.failed", stream: keys.join(", "), error: err });
        await Bun.sleep(Math.min(1000, this.#opts.blockMs));
        continue;
      }
      const byKey = streamEntries(reply);
      for (const key of keys) {
        const entries = byKey.get(key) ?? [];
        if (!this.#caughtUp.has(key) && entries.length === 0) this.#caughtUp.add(key);
        if (entries.length === 0 || this.#stopping) continue;
        try {
          await this.#process(key, key.slice(this.#opts.prefix.length), entries);
        } catch (err) {
          // Not acknowledged: re-read this stream's pending entries on the next round.
          this.#caughtUp.delete(key);
          this.log({ level: "error", event: "stream.failed", stream: key, error: err });
          await Bun.sleep(Math.min(1000, this.#opts.blockMs));
        }
      }
    }
  }

  async #ensureGroup(key: string): Promise<void> {
    if (this.#groups.has(key)) return;
    try {
      // From the stream's start: entries written before Larder first ran count too.
      await this.#client.send("XGROUP", ["CREATE", key, this.#opts.group, "0", "MKSTREAM"]);
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
    this.#groups.add(key);
  }

  async #process(key: string, source: string, entries: Entry[]): Promise<void> {
    const good: { id: string; row: unknown }[] = [];
    const dead: { id: string; raw: string; reason: string }[] = [];
    const registry = this.larder.registry();
    const push = registry.pushSource(source);
    const schema = registry.data.sources[push.batchSource]!;
    for (const [id, fields] of entries) {
      const raw = fieldOf(fields, "row");
      try {
        if (raw === undefined) throw new LarderError('the entry has no "row" field (the row as JSON)');
        const row = JSON.parse(raw) as unknown;
        validateRows(schema, source, [row], push.eventIdField);
        good.push({ id, row });
      } catch (err) {
        dead.push({ id, raw: raw ?? "", reason: (err as Error).message });
      }
    }
    let pushed = good.length;
    if (good.length) {
      try {
        await this.larder.push({ source, rows: good.map((g) => g.row), to: this.#opts.to });
      } catch (err) {
        if (!(err instanceof ExpectationFailedError)) throw err;
        // Entry by entry: those failing an expectation become dead letters, the rest are pushed.
        for (const g of good) {
          try {
            await this.larder.push({ source, rows: [g.row], to: this.#opts.to });
          } catch (e) {
            if (!(e instanceof ExpectationFailedError)) throw e;
            dead.push({ id: g.id, raw: JSON.stringify(g.row), reason: e.message });
            pushed--;
          }
        }
      }
    }
    for (const d of dead) {
      await this.#client.send("XADD", [`${key}:dead`, "*", "id", d.id, "reason", d.reason, "row", d.raw]);
      this.log({ level: "warn", event: "stream.dead_letter", stream: key, id: d.id, reason: d.reason });
    }
    const ids = entries.map(([id]) => id);
    await this.#opts.beforeAck?.(ids);
    await this.#client.send("XACK", [key, this.#opts.group, ...ids]);
    this.entries += pushed;
  }
}

/** XREADGROUP's reply, as RESP3 map or RESP2 array, as stream key → entries. */
function streamEntries(reply: unknown): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  if (!reply) return out;
  const pairs: [string, unknown][] = Array.isArray(reply) ? (reply as [string, unknown][]) : Object.entries(reply as Record<string, unknown>);
  for (const [key, entries] of pairs) {
    // A pending entry deleted from the stream comes back with null fields: nothing to push.
    out.set(String(key), ((entries as Entry[]) ?? []).map(([id, fields]) => [String(id), (fields ?? []).map(String)]));
  }
  return out;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
