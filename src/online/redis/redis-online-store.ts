/**
 * The online store on Redis, through Bun's built-in client, for several Larder processes
 * on several machines. Keys, under a prefix (default `larder:`):
 *   meta:format · meta:pointers (JSON of every pointer) · meta:pointers:version (a counter)
 *   meta:tables (hash: table → id) · meta:next-table · r:<id>:<entity key> (a record's bytes)
 *   seen:<namespace>:<id> (event ids applied by streaming updates)
 * Records use the same codec as LMDB. Reads are pipelined. Commits and updates run on a
 * second connection kept for transactions: WATCH what they read, MULTI … EXEC, and retry
 * when another writer got there first, so a commit is atomic (records and pointers
 * together) and an update loses nothing to a concurrent one.
 * Redis unreachable → OnlineStoreError (503) naming it; the client reconnects by itself,
 * and the next request after Redis returns is served.
 */
import { RedisClient } from "bun";
import { OnlineStoreError } from "../../errors.ts";
import type { Commit, OnlineRecord, OnlineStore, RecordUpdate, ServingPointer } from "../online-store.ts";
import { decodeRecord, encodeRecord, encodeUpdate } from "../record-codec.ts";

export type RedisConfig = { url: string; prefix: string };

const FORMAT = "2";
const MAX_ATTEMPTS = 100;
/** After a conflict: a random pause that grows, so two busy writers do not collide forever. */
const backoff = (attempt: number) => Bun.sleep(Math.random() * Math.min(50, 2 ** attempt));
/** Keys per DEL during dropTable, and per pipelined batch of reads. */
const CHUNK = 1000;

export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis";
  readonly capabilities = { multiProcess: true, keyExpiry: true };
  readonly #config: Readonly<RedisConfig>;
  readonly #client: RedisClient;
  /** Transactions only (WATCH/MULTI/EXEC need a connection no other command uses meanwhile). */
  readonly #tx: RedisClient;
  #txQueue: Promise<unknown> = Promise.resolve();
  #pointers: { version: string | null; map: Map<string, ServingPointer> } | undefined;
  /** Table name → key prefix of its records; ids are never reused. */
  readonly #prefixes = new Map<string, string>();
  #formatChecked = false;

  constructor(config: RedisConfig) {
    this.#config = Object.freeze({ ...config });
    // No offline queue: a request while Redis is away fails fast (503) instead of waiting.
    const options = { enableOfflineQueue: false, connectionTimeout: 2000, autoReconnect: true, maxRetries: 1_000_000 };
    this.#client = new RedisClient(config.url, options);
    this.#tx = new RedisClient(config.url, options);
  }

  #key(...parts: string[]): string {
    return this.#config.prefix + parts.join(":");
  }

  /** Runs `fn` with a connected client; connection failures become a 503 naming Redis. */
  async #with<T>(client: RedisClient, fn: (c: RedisClient) => Promise<T>): Promise<T> {
    try {
      await this.#connected(client);
      if (!this.#formatChecked) {
        await this.#connected(this.#client);
        await this.#checkFormat();
      }
      return await fn(client);
    } catch (err) {
      if (err instanceof OnlineStoreError) throw err;
      const code = (err as { code?: string }).code ?? "";
      if (code.startsWith("ERR_REDIS_CONNECTION") || /connect|closed|ECONNREFUSED|timed? ?out/i.test(String((err as Error).message))) {
        throw new OnlineStoreError(`the online store (Redis at ${redact(this.#config.url)}) is unavailable: ${(err as Error).message}`, { cause: err });
      }
      throw new OnlineStoreError(`the online store (Redis at ${redact(this.#config.url)}) failed: ${(err as Error).message}`, { cause: err });
    }
  }

  readonly #everConnected = new WeakSet<RedisClient>();

  /**
   * The first use connects (waiting up to the connection timeout). Afterwards a lost
   * connection is the client's to restore, and requests meanwhile fail at once: connect()
   * would wait for Redis to return.
   */
  async #connected(client: RedisClient): Promise<void> {
    if (client.connected) return;
    if (this.#everConnected.has(client)) throw new OnlineStoreError(`the online store (Redis at ${redact(this.#config.url)}) is unavailable: the connection was lost and is being restored`);
    await client.connect();
    this.#everConnected.add(client);
  }

  async #checkFormat(): Promise<void> {
    const key = this.#key("meta", "format");
    await this.#client.send("SETNX", [key, FORMAT]);
    const format = (await this.#client.send("GET", [key])) as string | null;
    if (format !== FORMAT) {
      throw new OnlineStoreError(`the online store at ${redact(this.#config.url)} (prefix "${this.#config.prefix}") was written by another version of Larder (format ${format}, this one reads ${FORMAT}): delete its keys and run larder materialize`);
    }
    this.#formatChecked = true;
  }

  /** Transactions one at a time on the transaction connection. */
  #transaction<T>(fn: (tx: RedisClient) => Promise<T>): Promise<T> {
    const run = this.#txQueue.then(() => this.#with(this.#tx, fn));
    this.#txQueue = run.catch(() => {});
    return run;
  }

  async #prefix(table: string): Promise<string | undefined> {
    let prefix = this.#prefixes.get(table);
    if (prefix === undefined) {
      const id = (await this.#client.send("HGET", [this.#key("meta", "tables"), table])) as string | null;
      if (id === null) return undefined;
      prefix = this.#key("r", id) + ":";
      this.#prefixes.set(table, prefix);
    }
    return prefix;
  }

  /** The prefix of a table, registering it first if new (safe against other processes). */
  async #ensurePrefix(tx: RedisClient, table: string): Promise<string> {
    const known = await this.#with(this.#client, () => this.#prefix(table));
    if (known) return known;
    const id = String(await tx.send("INCR", [this.#key("meta", "next-table")]));
    await tx.send("HSETNX", [this.#key("meta", "tables"), table, id]);
    this.#prefixes.delete(table);
    return (await this.#prefix(table))!;
  }

  async #getMany(client: RedisClient, keys: string[]): Promise<(Uint8Array | null)[]> {
    const out: (Uint8Array | null)[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      // Issued together: Bun pipelines them on the connection.
      out.push(...(await Promise.all(keys.slice(i, i + CHUNK).map((k) => client.getBuffer(k)))));
    }
    return out;
  }

  async read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]> {
    return this.#with(this.#client, async (c) => {
      const prefix = await this.#prefix(table);
      if (prefix === undefined) return entityKeys.map(() => undefined);
      const values = await this.#getMany(c, entityKeys.map((k) => prefix + k));
      return values.map((v) => (v ? decodeRecord(v) : undefined));
    });
  }

  async commit(commit: Commit): Promise<void> {
    await this.#transaction(async (tx) => {
      const prefix = await this.#ensurePrefix(tx, commit.table);
      const encoded = commit.records.map(([key, record]) => [prefix + key, encodeRecord(record), commit.expireAt?.(record)] as const);
      for (let attempt = 0; ; attempt++) {
        if (commit.pointers?.length) await tx.send("WATCH", [this.#key("meta", "pointers")]);
        const pointers = commit.pointers?.length ? await this.#mergedPointers(tx, commit.pointers) : null;
        await tx.send("MULTI", []);
        const queued: Promise<unknown>[] = encoded.map(([key, bytes, at]) => this.#set(tx, key, bytes, at));
        if (pointers) queued.push(...this.#queuePointers(tx, pointers));
        const done = await tx.send("EXEC", []);
        await Promise.all(queued);
        if (done !== null) return;
        if (attempt >= MAX_ATTEMPTS) throw new OnlineStoreError(`commit to ${commit.table}: pointers kept changing under ${MAX_ATTEMPTS} attempts`);
        await backoff(attempt);
      }
    });
  }

  async #mergedPointers(tx: RedisClient, pointers: ServingPointer[]): Promise<string> {
    const raw = (await tx.send("GET", [this.#key("meta", "pointers")])) as string | null;
    const all = raw ? (JSON.parse(raw) as Record<string, ServingPointer>) : {};
    for (const p of pointers) all[p.view] = p;
    return JSON.stringify(all);
  }

  /** A record, with its expiry when it has one (a time already past drops it at once). */
  #set(tx: RedisClient, key: string, bytes: Uint8Array, expireAt: number | undefined): Promise<unknown> {
    return expireAt === undefined ? tx.set(key, bytes) : tx.send("SET", [key, bytes as unknown as string, "PXAT", String(Math.max(1, Math.floor(expireAt)))]);
  }

  /** Inside MULTI: the commands are queued; their promises resolve with "QUEUED". */
  #queuePointers(tx: RedisClient, json: string): Promise<unknown>[] {
    return [tx.send("SET", [this.#key("meta", "pointers"), json]), tx.send("INCR", [this.#key("meta", "pointers:version")])];
  }

  async update(u: RecordUpdate): Promise<void> {
    await this.#transaction(async (tx) => {
      const tables = [...new Set(u.keys.map((k) => k.table))];
      const prefixes = new Map<string, string>();
      for (const t of tables) prefixes.set(t, await this.#ensurePrefix(tx, t));
      const recordKeys = u.keys.map((k) => prefixes.get(k.table)! + k.key);
      const seenKeys = (u.ids?.ids ?? []).map((id) => this.#key("seen", u.ids!.namespace, id));
      for (let attempt = 0; ; attempt++) {
        const watched = [...recordKeys, ...seenKeys, this.#key("meta", "pointers")];
        for (let i = 0; i < watched.length; i += CHUNK) await tx.send("WATCH", watched.slice(i, i + CHUNK));
        const current = (await this.#getMany(tx, recordKeys)).map((v) => (v ? decodeRecord(v) : undefined));
        const seen = (await Promise.all(seenKeys.map((k) => tx.send("EXISTS", [k])))).map((n) => Number(n) > 0);
        const out = u.compute(current, seen);
        const pointers = out.pointers?.length ? await this.#mergedPointers(tx, out.pointers) : null;
        await tx.send("MULTI", []);
        const queued: Promise<unknown>[] = [];
        out.records.forEach((rec, i) => {
          if (rec) queued.push(this.#set(tx, recordKeys[i]!, encodeUpdate(current[i], rec), u.expireAt?.(u.keys[i]!.table, rec)));
        });
        const window = u.ids?.windowMs;
        for (const id of out.seen) queued.push(tx.send("SET", [this.#key("seen", u.ids!.namespace, id), "1", ...(window ? ["PX", String(Math.ceil(window))] : [])]));
        if (pointers) queued.push(...this.#queuePointers(tx, pointers));
        const done = await tx.send("EXEC", []);
        await Promise.all(queued);
        if (done !== null) return;
        if (attempt >= MAX_ATTEMPTS) throw new OnlineStoreError(`update: the records kept changing under ${MAX_ATTEMPTS} attempts`);
        await backoff(attempt);
      }
    });
  }

  async pointers(): Promise<ReadonlyMap<string, ServingPointer>> {
    return this.#with(this.#client, async (c) => {
      const version = (await c.send("GET", [this.#key("meta", "pointers:version")])) as string | null;
      if (!this.#pointers || this.#pointers.version !== version) {
        const raw = (await c.send("GET", [this.#key("meta", "pointers")])) as string | null;
        this.#pointers = { version, map: new Map(Object.entries(raw ? (JSON.parse(raw) as Record<string, ServingPointer>) : {})) };
      }
      return this.#pointers.map;
    });
  }

  async dropTable(table: string): Promise<void> {
    await this.#with(this.#client, async (c) => {
      const prefix = await this.#prefix(table);
      if (prefix === undefined) return;
      // The pattern is built from the table's numeric id only, never from entity keys.
      let cursor = "0";
      do {
        const [next, keys] = (await c.send("SCAN", [cursor, "MATCH", `${prefix}*`, "COUNT", String(CHUNK)])) as [string, string[]];
        if (keys.length) await c.send("UNLINK", keys);
        cursor = String(next);
      } while (cursor !== "0");
      await c.send("HDEL", [this.#key("meta", "tables"), table]);
      this.#prefixes.delete(table);
    });
  }

  async tables(): Promise<string[]> {
    return this.#with(this.#client, async (c) => (await c.send("HKEYS", [this.#key("meta", "tables")])) as string[]);
  }

  async close(): Promise<void> {
    await this.#txQueue;
    this.#client.close();
    this.#tx.close();
  }
}

/** A URL as it may appear in messages: without its password. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
