/**
 * The online store on Redis, through Bun's built-in client, for several Larder processes
 * on several machines. Keys, under a prefix (default `larder:`):
 *   meta:format · meta:pointers (JSON of every pointer) · meta:pointers:version (a counter)
 *   meta:tables (hash: table → id) · meta:next-table · r:<id>:<entity key> (a record's bytes)
 *   seen:<namespace>:<id> (event ids applied by streaming updates) · lease:<name> (JSON of a Lease)
 * Records use the same codec as LMDB. Reads are pipelined. Commits and updates run on a
 * second connection kept for transactions: WATCH what they read, MULTI … EXEC, and retry
 * when another writer got there first, so a commit is atomic (records and pointers
 * together) and an update loses nothing to a concurrent one.
 * Redis unreachable → OnlineStoreError (503) naming it; the client reconnects by itself,
 * and the next request after Redis returns is served.
 */
import { RedisClient } from "bun";
import { LarderError, OnlineStoreError } from "../../errors.ts";
import { failedCheck, type Commit, type Lease, type OnlineRecord, type OnlineStore, type PointerCheck, type RecordUpdate, type ServingPointer } from "../online-store.ts";
import { decodeRecord, encodeRecord, encodeUpdate } from "../record-codec.ts";
import { mayTakeLease, takenLease } from "../lease.ts";
import { pointerMoved } from "../pointer-moved.ts";
import { storedLease, storedPointersJson } from "../stored-meta.ts";

/**
 * `waitReplicas`: after every write, wait until this many replicas have it (WAIT) before it
 * counts as done, so a master that fails right after cannot lose an acknowledged write.
 */
export type RedisConfig = {
  url: string;
  prefix: string;
  waitReplicas?: number;
  /**
   * The master of the store's slot in a Redis Cluster (redis-cluster-store.ts): no
   * reconnecting to it (a connect to a dead node would wait forever); the cluster store
   * finds the slot's new master instead.
   */
  clusterNode?: boolean;
};

/** How long a write waits for its replicas before it is reported as not safely done. */
const WAIT_MS = 2000;

/** 3: records of format 4 (recent events kept apart; record-codec.ts). */
const FORMAT = "3";
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
    const options = { enableOfflineQueue: false, connectionTimeout: 2000, autoReconnect: !config.clusterNode, maxRetries: config.clusterNode ? 0 : 1_000_000 };
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
      // Ours (a failed pointer check, damaged metadata): as they are.
      if (err instanceof LarderError) throw err;
      const code = (err as { code?: string }).code ?? "";
      if (code.startsWith("ERR_REDIS_CONNECTION") || /connect|closed|ECONNREFUSED|timed? ?out/i.test(String((err as Error).message))) {
        throw new OnlineStoreError(`the online store (Redis at ${redact(this.#config.url)}) is unavailable: ${(err as Error).message}`, { cause: err });
      }
      if (/^(MOVED|ASK|CLUSTERDOWN)\b/.test(String((err as Error).message)) && !this.#config.clusterNode)
        throw new OnlineStoreError(
          `the online store (Redis at ${redact(this.#config.url)}) is a Redis Cluster node (${(err as Error).message}): use LARDER_ONLINE=redis-cluster://host:port,host:port`,
          { cause: err },
        );
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
    if (this.#everConnected.has(client))
      throw new OnlineStoreError(`the online store (Redis at ${redact(this.#config.url)}) is unavailable: the connection was lost and is being restored`);
    await client.connect();
    this.#everConnected.add(client);
  }

  async #checkFormat(): Promise<void> {
    const key = this.#key("meta", "format");
    await this.#client.send("SETNX", [key, FORMAT]);
    const format = (await this.#client.send("GET", [key])) as string | null;
    if (format !== FORMAT) {
      throw new OnlineStoreError(
        `the online store at ${redact(this.#config.url)} (prefix "${this.#config.prefix}") was written by another version of Larder (format ${format}, this one reads ${FORMAT}): run larder materialize --rebuild`,
      );
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
      prefix = `${this.#key("r", id)}:`;
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
      const values = await this.#getMany(
        c,
        entityKeys.map((k) => prefix + k),
      );
      return values.map((v) => (v ? decodeRecord(v) : undefined));
    });
  }

  async commit(commit: Commit): Promise<void> {
    await this.#transaction(async (tx) => {
      // Checked before the table is registered too, so a refused commit leaves no trace.
      if (commit.expect?.length) this.#check(tx, await this.#storedPointers(tx), commit.expect);
      const prefix = await this.#ensurePrefix(tx, commit.table);
      const encoded = commit.records.map(([key, record]) => [prefix + key, encodeRecord(record), commit.expireAt?.(record)] as const);
      const readsPointers = Boolean(commit.pointers?.length || commit.expect?.length);
      for (let attempt = 0; ; attempt++) {
        if (readsPointers) await tx.send("WATCH", [this.#key("meta", "pointers")]);
        const current = readsPointers ? await this.#storedPointers(tx) : {};
        this.#check(tx, current, commit.expect);
        await tx.send("MULTI", []);
        const queued: Promise<unknown>[] = encoded.map(([key, bytes, at]) => this.#set(tx, key, bytes, at));
        if (commit.pointers?.length) queued.push(...this.#queuePointers(tx, current, commit.pointers));
        const done = await tx.send("EXEC", []);
        await Promise.all(queued);
        if (done !== null) return await this.#replicated(tx, `commit to ${commit.table}`);
        if (attempt >= MAX_ATTEMPTS) throw new OnlineStoreError(`commit to ${commit.table}: pointers kept changing under ${MAX_ATTEMPTS} attempts`);
        await backoff(attempt);
      }
    });
  }

  #replicas: { count: number; at: number } | undefined;

  /**
   * With `waitReplicas`: returns once that many replicas (or as many as the master has now:
   * none, right after a failover) have the writes so far, or throws saying the write may be lost.
   */
  async #replicated(tx: RedisClient, what: string): Promise<void> {
    if (!this.#config.waitReplicas) return;
    if (!this.#replicas || Date.now() - this.#replicas.at > 1000) {
      const info = String(await tx.send("INFO", ["replication"]));
      this.#replicas = { count: Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0), at: Date.now() };
    }
    const want = Math.min(this.#config.waitReplicas, this.#replicas.count);
    if (want <= 0) return;
    const got = Number(await tx.send("WAIT", [String(want), String(WAIT_MS)]));
    if (got < want)
      throw new OnlineStoreError(
        `${what}: written, but only ${got} of ${want} replicas had it within ${WAIT_MS} ms; a failover now could lose it, so it is not acknowledged (retry: event ids count it once)`,
      );
  }

  /** Every pointer as stored, read on `c` (inside WATCH, the transaction's view). */
  async #storedPointers(c: RedisClient): Promise<Record<string, ServingPointer>> {
    return storedPointersJson((await c.send("GET", [this.#key("meta", "pointers")])) as string | null, this.#where);
  }

  get #where(): string {
    return `the Redis online store at ${redact(this.#config.url)} (prefix "${this.#config.prefix}")`;
  }

  /** A lease's JSON; unparsable counts as no lease (storedLease). */
  #parseLease(raw: string): unknown {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }

  /** Throws (after UNWATCH) when a pointer check fails. */
  #check(tx: RedisClient, current: Record<string, ServingPointer>, checks: PointerCheck[] | undefined): void {
    const failed = failedCheck((view) => current[view], checks);
    if (!failed) return;
    void tx.send("UNWATCH", []).catch(() => {});
    throw pointerMoved(failed, current[failed.view]);
  }

  /** A record, with its expiry when it has one (a time already past drops it at once). */
  #set(tx: RedisClient, key: string, bytes: Uint8Array, expireAt: number | undefined): Promise<unknown> {
    return expireAt === undefined ? tx.set(key, bytes) : tx.send("SET", [key, bytes as unknown as string, "PXAT", String(Math.max(1, Math.floor(expireAt)))]);
  }

  /** Inside MULTI: `current` with `pointers` set; the commands are queued, their promises resolve with "QUEUED". */
  #queuePointers(tx: RedisClient, current: Record<string, ServingPointer>, pointers: ServingPointer[]): Promise<unknown>[] {
    const all = { ...current };
    for (const p of pointers) all[p.view] = p;
    return [tx.send("SET", [this.#key("meta", "pointers"), JSON.stringify(all)]), tx.send("INCR", [this.#key("meta", "pointers:version")])];
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
        const pointers = await this.#storedPointers(tx);
        this.#check(tx, pointers, u.expect);
        const current = (await this.#getMany(tx, recordKeys)).map((v) => (v ? decodeRecord(v) : undefined));
        const seen = (await Promise.all(seenKeys.map((k) => tx.send("EXISTS", [k])))).map((n) => Number(n) > 0);
        const out = u.compute(current, seen);
        await tx.send("MULTI", []);
        const queued: Promise<unknown>[] = [];
        out.records.forEach((rec, i) => {
          if (rec) queued.push(this.#set(tx, recordKeys[i]!, encodeUpdate(current[i], rec), u.expireAt?.(u.keys[i]!.table, rec)));
        });
        const window = u.ids?.windowMs;
        for (const id of out.seen) queued.push(tx.send("SET", [this.#key("seen", u.ids!.namespace, id), "1", ...(window ? ["PX", String(Math.ceil(window))] : [])]));
        if (out.pointers?.length) queued.push(...this.#queuePointers(tx, pointers, out.pointers));
        const done = await tx.send("EXEC", []);
        await Promise.all(queued);
        if (done !== null) return await this.#replicated(tx, "update");
        if (attempt >= MAX_ATTEMPTS) throw new OnlineStoreError(`update: the records kept changing under ${MAX_ATTEMPTS} attempts`);
        await backoff(attempt);
      }
    });
  }

  async pointers(): Promise<ReadonlyMap<string, ServingPointer>> {
    return this.#with(this.#client, async (c) => {
      const version = (await c.send("GET", [this.#key("meta", "pointers:version")])) as string | null;
      if (!this.#pointers || this.#pointers.version !== version) {
        this.#pointers = { version, map: new Map(Object.entries(await this.#storedPointers(c))) };
      }
      return this.#pointers.map;
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    const key = this.#key("lease", name);
    return this.#transaction(async (tx) => {
      for (let attempt = 0; ; attempt++) {
        await tx.send("WATCH", [key]);
        const raw = (await tx.send("GET", [key])) as string | null;
        const current = raw === null ? undefined : storedLease(this.#parseLease(raw));
        const now = Date.now();
        if (!mayTakeLease(current, holder, now)) {
          await tx.send("UNWATCH", []);
          return current!;
        }
        const lease = takenLease(current, name, holder, ttlMs, now);
        await tx.send("MULTI", []);
        // The key outlives the lease a little, so a lapsed one is still seen as lapsed, then goes.
        const set = tx.send("SET", [key, JSON.stringify(lease), "PXAT", String(lease.expiresAt + ttlMs)]);
        const done = await tx.send("EXEC", []);
        await set;
        if (done !== null) return lease;
        if (attempt >= MAX_ATTEMPTS) throw new OnlineStoreError(`lease ${name}: it kept changing under ${MAX_ATTEMPTS} attempts`);
        await backoff(attempt);
      }
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const key = this.#key("lease", name);
    await this.#transaction(async (tx) => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        await tx.send("WATCH", [key]);
        const raw = (await tx.send("GET", [key])) as string | null;
        if (raw === null || storedLease(this.#parseLease(raw))?.holder !== holder) {
          await tx.send("UNWATCH", []);
          return;
        }
        await tx.send("MULTI", []);
        const del = tx.send("DEL", [key]);
        const done = await tx.send("EXEC", []);
        await del;
        if (done !== null) return;
      }
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
