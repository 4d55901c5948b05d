/**
 * The online store on a Redis Cluster (`redis-cluster://host:port,host:port[?prefix=larder:]`).
 *
 * Every key of a store carries one hash tag, its prefix (`{larder}:…`), so the whole store
 * lives in one hash slot, on one master and its replicas. Every transaction of the Redis
 * store (a commit with its pointer switch, a push's records with their seen ids, leases)
 * therefore stays in one slot, as Redis Cluster requires, and keeps the same atomicity as
 * on a single Redis. Stores with other prefixes hash to other slots: they spread over the
 * cluster's masters.
 *
 * Bun's client speaks to one node, so this finds the master of the store's slot (CLUSTER
 * SLOTS, from any node it knows) and runs the Redis store against it:
 * - MOVED, ASK, CLUSTERDOWN or a master that cannot be reached: the slot's master is looked
 *   up again (a failover promotes a replica within the cluster's node timeout) and the
 *   operation tried again when it cannot have been applied (reads, and writes refused
 *   before they ran); a write cut off mid-way fails, for its caller to retry (event ids
 *   count a retried push once);
 * - every write waits (WAIT) until a replica has it before it is acknowledged, so a master
 *   killed right after loses no acknowledged write (a master left with no replica, after a
 *   failover, acknowledges on its own until one is attached again).
 */
import { RedisClient } from "bun";
import { OnlineStoreError } from "../../errors.ts";
import type { Commit, Lease, OnlineRecord, OnlineStore, RecordUpdate, ServingPointer } from "../online-store.ts";
import { keySlot } from "./cluster-slot.ts";
import { RedisOnlineStore } from "./redis-online-store.ts";

export type RedisClusterConfig = {
  /** `host:port` of nodes to ask; any one that answers will do. */
  seeds: string[];
  /** With its hash tag: `{larder}:`. */
  prefix: string;
  /** `user:password@` or `:password@`, when the cluster needs it. */
  auth: string;
  /** Replicas a write must reach before it is acknowledged (default 1). */
  waitReplicas: number;
  tls: boolean;
};

/** How long a failover may take before operations give up (above the usual node timeouts). */
const FAILOVER_MS = 30_000;

/** `redis-cluster://[user:pass@]host:port,host:port[?prefix=…&wait=1]`; the prefix gets a hash tag when it has none. */
export function parseClusterUrl(url: string): RedisClusterConfig {
  const m = /^(rediss?-cluster):\/\/(?:([^@/]*)@)?([^/?]+)\/?(?:\?(.*))?$/.exec(url);
  if (!m) throw new OnlineStoreError(`"${url}" is not a Redis Cluster address: redis-cluster://host:port,host:port[?prefix=larder:]`);
  const params = new URLSearchParams(m[4] ?? "");
  const raw = params.get("prefix") ?? "larder:";
  const prefix = /\{[^}]+\}/.test(raw) ? raw : `{${raw.replace(/:$/, "")}}:`;
  const wait = Number(params.get("wait") ?? 1);
  return {
    seeds: m[3]!
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    prefix,
    auth: m[2] ? `${m[2]}@` : "",
    waitReplicas: Number.isInteger(wait) && wait >= 0 ? wait : 1,
    tls: m[1] === "rediss-cluster",
  };
}

/** Errors after which the slot's master is looked up again. */
const isTopologyError = (err: unknown) =>
  /\b(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY)\b|unavailable|connection|ECONNREFUSED|closed/i.test(
    String((err as Error)?.message) + String((err as { cause?: Error })?.cause?.message ?? ""),
  );
/** Errors that prove the command was refused before it ran (safe to run again). */
const wasRefused = (err: unknown) =>
  /\b(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY)\b|is unavailable/i.test(String((err as Error)?.message) + String((err as { cause?: Error })?.cause?.message ?? ""));

export class RedisClusterOnlineStore implements OnlineStore {
  readonly kind = "redis-cluster";
  readonly capabilities = { multiProcess: true, keyExpiry: true };
  readonly slot: number;
  #inner: { store: RedisOnlineStore; master: string } | undefined;
  #finding: Promise<{ store: RedisOnlineStore; master: string }> | undefined;
  /** Every node seen in the cluster's answers: asked when the seeds are down. */
  readonly #known: Set<string>;

  constructor(readonly config: RedisClusterConfig) {
    if (config.seeds.length === 0) throw new OnlineStoreError("redis-cluster:// needs at least one host:port");
    this.slot = keySlot(config.prefix);
    this.#known = new Set(config.seeds);
  }

  #url(node: string): string {
    return `${this.config.tls ? "rediss" : "redis"}://${this.config.auth}${node}`;
  }

  /** The master of the store's slot, asked of every node known until one answers. */
  async #master(): Promise<string> {
    const errors: string[] = [];
    for (const node of [...this.#known]) {
      const c = new RedisClient(this.#url(node), { connectionTimeout: 1000, autoReconnect: false, enableOfflineQueue: false });
      try {
        await c.connect();
        const slots = (await c.send("CLUSTER", ["SLOTS"])) as [number, number, [string, number, ...unknown[]], ...[string, number, ...unknown[]][]][];
        for (const [, , ...nodes] of slots) for (const [host, port] of nodes) this.#known.add(`${host}:${port}`);
        const range = slots.find(([from, to]) => this.slot >= from && this.slot <= to);
        if (range) return `${range[2][0]}:${range[2][1]}`;
        errors.push(`${node}: no node serves slot ${this.slot}`);
      } catch (err) {
        errors.push(`${node}: ${(err as Error).message}`);
      } finally {
        c.close();
      }
    }
    throw new OnlineStoreError(`the online store (Redis Cluster ${this.config.seeds.join(",")}) has no master for slot ${this.slot} now: ${errors.join("; ")}`);
  }

  #store(): Promise<{ store: RedisOnlineStore; master: string }> {
    if (this.#inner) return Promise.resolve(this.#inner);
    this.#finding ??= this.#master()
      .then((master) => {
        const store = new RedisOnlineStore({ url: this.#url(master), prefix: this.config.prefix, waitReplicas: this.config.waitReplicas, clusterNode: true });
        this.#inner = { store, master };
        return this.#inner;
      })
      .finally(() => (this.#finding = undefined));
    return this.#finding;
  }

  /** Runs `fn` on the slot's master, following the slot through MOVED and failovers. */
  async #run<T>(fn: (s: RedisOnlineStore) => Promise<T>, retryable: "always" | "if-refused"): Promise<T> {
    const until = Date.now() + FAILOVER_MS;
    for (let attempt = 0; ; attempt++) {
      let inner: { store: RedisOnlineStore; master: string } | undefined;
      try {
        inner = await this.#store();
        return await fn(inner.store);
      } catch (err) {
        if (!isTopologyError(err)) throw err;
        // The master moved or went: forget it, and look again.
        if (inner && this.#inner === inner) {
          this.#inner = undefined;
          void inner.store.close().catch(() => {});
        }
        const again = retryable === "always" || !inner || wasRefused(err);
        if (!again || Date.now() > until) throw err;
        await Bun.sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]> {
    return this.#run((s) => s.read(table, entityKeys), "always");
  }
  commit(commit: Commit): Promise<void> {
    return this.#run((s) => s.commit(commit), "if-refused");
  }
  update(u: RecordUpdate): Promise<void> {
    return this.#run((s) => s.update(u), "if-refused");
  }
  pointers(): Promise<ReadonlyMap<string, ServingPointer>> {
    return this.#run((s) => s.pointers(), "always");
  }
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    return this.#run((s) => s.acquireLease(name, holder, ttlMs), "always");
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.#run((s) => s.releaseLease(name, holder), "always");
  }
  dropTable(table: string): Promise<void> {
    return this.#run((s) => s.dropTable(table), "always");
  }
  tables(): Promise<string[]> {
    return this.#run((s) => s.tables(), "always");
  }
  /** The master's address (for setting a store aside: SCAN runs on it). */
  async masterUrl(): Promise<string> {
    return this.#url((await this.#store()).master);
  }
  async close(): Promise<void> {
    await this.#inner?.store.close();
    this.#inner = undefined;
  }
}
