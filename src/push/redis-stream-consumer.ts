/**
 * Redis Streams → pushes. One stream per push source (`<prefix><push source>`, default
 * `larder:push:<name>`), each entry a field `row` holding the row as JSON. Read through a
 * consumer group with Bun's built-in Redis client:
 * - an entry is acknowledged only after the push holding it has committed;
 * - on start the consumer first re-reads its own unacknowledged entries (a restart after
 *   a crash resumes where it stopped), then new ones;
 * - a redelivered entry is not counted twice when the push source has an `eventIdField`;
 * - an entry refused (not JSON, a row the schema or an expectation refuses) goes to
 *   `<stream>:dead` with the reason at once, and is acknowledged; one that fails for any
 *   other reason is tried again later, up to MAX_TRIES times, then dead-lettered too.
 *   Either way the entries after it go on: one bad entry never blocks the stream. (An
 *   online store or offline storage that is unreachable is no entry's fault: then the
 *   stream waits, and no try is counted.)
 */
import { RedisClient } from "bun";
import type { Larder } from "../larder.ts";
import { LarderError, OnlineStoreError, StorageError } from "../errors.ts";
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
  /** The wait before a failing entry's second try (then doubling, up to 30 s). */
  retryMs?: number;
  /** Called after a batch's push commits and before it is acknowledged (tests use it to crash there). */
  beforeAck?: (ids: string[]) => Promise<void> | void;
};

type Entry = [id: string, fields: string[]];

/** Tries of an entry that keeps failing (not refused: failing) before it is dead-lettered. */
export const MAX_TRIES = 5;

/** The store or storage is unreachable: no entry is at fault. */
const isOutage = (err: unknown) => err instanceof OnlineStoreError || err instanceof StorageError;

export class RedisStreamConsumer {
  readonly #client: RedisClient;
  readonly #opts: Required<Omit<StreamConsumerOptions, "beforeAck">> & Pick<StreamConsumerOptions, "beforeAck">;
  #running: Promise<void> | undefined;
  #stopping = false;
  /** Streams whose pending entries were all re-read (from then on: new entries only). */
  readonly #caughtUp = new Set<string>();
  /** Streams with entries left to try again, and when. */
  readonly #retryAt = new Map<string, number>();
  /** Failed tries per entry id (for this process's life). */
  readonly #tries = new Map<string, number>();
  readonly #groups = new Set<string>();
  /** Entries pushed and acknowledged since start. */
  entries = 0;

  constructor(
    private readonly larder: Larder,
    opts: StreamConsumerOptions,
    private readonly log: Logger,
  ) {
    this.#opts = { prefix: "larder:push:", group: "larder", consumer: "larder", to: "online", batch: 500, blockMs: 500, retryMs: 500, ...opts };
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
      const sources = this.larder
        .registry()
        .pushSources()
        .map((p) => p.name);
      if (sources.length === 0) {
        await Bun.sleep(this.#opts.blockMs);
        continue;
      }
      const keys = sources.map((s) => this.#opts.prefix + s);
      for (const key of keys) await this.#ensureGroup(key);
      // Entries left for another try are re-read (as pending) once due.
      const now = Date.now();
      for (const [key, at] of this.#retryAt) {
        if (at > now) continue;
        this.#retryAt.delete(key);
        this.#caughtUp.delete(key);
      }
      const ids = keys.map((k) => (this.#caughtUp.has(k) ? ">" : "0"));
      const pendingOnly = ids.every((id) => id === "0");
      let reply: unknown;
      try {
        reply = await this.#client.send("XREADGROUP", [
          "GROUP",
          this.#opts.group,
          this.#opts.consumer,
          "COUNT",
          String(this.#opts.batch),
          // Re-reading pending entries must not block: there may be none.
          ...(pendingOnly ? [] : ["BLOCK", String(this.#opts.blockMs)]),
          "STREAMS",
          ...keys,
          ...ids,
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
          const left = await this.#process(key, key.slice(this.#opts.prefix.length), entries);
          // Entries left to try again are re-read when due; meanwhile new ones go on.
          if (left > 0) this.#caughtUp.add(key);
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

  /** Pushes the entries; returns how many were left pending for another try. */
  async #process(key: string, source: string, entries: Entry[]): Promise<number> {
    const good: { id: string; row: unknown }[] = [];
    const dead: { id: string; raw: string; reason: string }[] = [];
    const registry = this.larder.registry();
    const push = registry.pushSource(source);
    const schema = registry.source(push.batchSource);
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
    const done = new Set(dead.map((d) => d.id));
    let pushed = 0;
    try {
      if (good.length) {
        try {
          await this.larder.push({ source, rows: good.map((g) => g.row), to: this.#opts.to });
          for (const g of good) done.add(g.id);
          pushed = good.length;
        } catch (err) {
          if (isOutage(err)) throw err;
          // One at a time: the ones at fault are found, and the rest go on.
          for (const g of good) {
            try {
              await this.larder.push({ source, rows: [g.row], to: this.#opts.to });
              done.add(g.id);
              pushed++;
            } catch (e) {
              if (isOutage(e)) throw e;
              const refused = e instanceof LarderError && e.status < 500;
              const tries = (this.#tries.get(g.id) ?? 0) + 1;
              if (refused || tries >= MAX_TRIES) {
                this.#tries.delete(g.id);
                dead.push({ id: g.id, raw: JSON.stringify(g.row), reason: refused ? (e as Error).message : `failed ${tries} times; the last: ${(e as Error).message}` });
                done.add(g.id);
              } else {
                // Left pending, to be re-read and tried again; later entries do not wait for it.
                this.#tries.set(g.id, tries);
                const at = Date.now() + Math.min(30_000, this.#opts.retryMs * 2 ** (tries - 1));
                this.#retryAt.set(key, Math.min(this.#retryAt.get(key) ?? Infinity, at));
                this.log({ level: "warn", event: "stream.retry", stream: key, id: g.id, tries, error: e as Error });
              }
            }
          }
        }
      }
    } finally {
      // What was applied or dead-lettered is acknowledged, even when an outage stops the rest.
      for (const d of dead) {
        await this.#client.send("XADD", [`${key}:dead`, "*", "id", d.id, "reason", d.reason, "row", d.raw]);
        this.log({ level: "warn", event: "stream.dead_letter", stream: key, id: d.id, reason: d.reason });
      }
      const ids = entries.map(([id]) => id).filter((id) => done.has(id));
      if (ids.length) {
        await this.#opts.beforeAck?.(ids);
        await this.#client.send("XACK", [key, this.#opts.group, ...ids]);
      }
      this.entries += pushed;
    }
    return entries.length - done.size;
  }
}

/** XREADGROUP's reply, as RESP3 map or RESP2 array, as stream key → entries. */
function streamEntries(reply: unknown): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  if (!reply) return out;
  const pairs: [string, unknown][] = Array.isArray(reply) ? (reply as [string, unknown][]) : Object.entries(reply as Record<string, unknown>);
  for (const [key, entries] of pairs) {
    // A pending entry deleted from the stream comes back with null fields: nothing to push.
    out.set(
      String(key),
      ((entries as Entry[]) ?? []).map(([id, fields]) => [String(id), (fields ?? []).map(String)]),
    );
  }
  return out;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
