/** A static table of online-store implementations, chosen by the configured URL. */
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { RedisClient } from "bun";
import { BadRequestError } from "../errors.ts";
import { LmdbOnlineStore } from "./lmdb/lmdb-online-store.ts";
import { RedisOnlineStore } from "./redis/redis-online-store.ts";
import { parseClusterUrl, RedisClusterOnlineStore } from "./redis/redis-cluster-store.ts";
import type { OnlineStore } from "./online-store.ts";

type Factory = (url: string, dataDir: string) => OnlineStore;

const implementations = {
  lmdb: (url, dataDir) => new LmdbOnlineStore({ path: url.startsWith("lmdb://") ? url.slice("lmdb://".length) : join(dataDir, "online") }),
  redis: (url) => redisStore(url),
  rediss: (url) => redisStore(url),
  "redis-cluster": (url) => new RedisClusterOnlineStore(parseClusterUrl(url)),
  "rediss-cluster": (url) => new RedisClusterOnlineStore(parseClusterUrl(url)),
} satisfies Record<string, Factory>;

export function openOnlineStore(url: string, dataDir: string): OnlineStore {
  const kind = url === "lmdb" ? "lmdb" : url.split("://")[0]!;
  const factory = (implementations as Record<string, Factory>)[kind];
  if (!factory)
    throw new BadRequestError(
      `online store "${url}" is not supported here: use "lmdb", "lmdb:///path", "redis://host:port[/db][?prefix=larder:]" or "redis-cluster://host:port,host:port[?prefix=larder:]"`,
      "invalid_config",
    );
  return factory(url, dataDir);
}

/** `redis://[user:pass@]host:port[/db][?prefix=…]`: the prefix (default "larder:") namespaces every key. */
function redisStore(url: string): OnlineStore {
  return new RedisOnlineStore(redisConfig(url));
}

function redisConfig(url: string): { url: string; prefix: string } {
  const u = new URL(url);
  const prefix = u.searchParams.get("prefix") ?? "larder:";
  u.search = "";
  return { url: u.toString(), prefix };
}

/**
 * Empties the online store without opening it (it may be too damaged to open), for a
 * rebuild: an LMDB folder is renamed aside (`online.damaged-<time>`), a Redis prefix's keys
 * are deleted. Says what it did.
 */
export async function setAsideOnlineStore(url: string, dataDir: string): Promise<string> {
  if (url === "lmdb" || url.startsWith("lmdb://")) {
    const path = url === "lmdb" ? join(dataDir, "online") : url.slice("lmdb://".length);
    if (!existsSync(path)) return `nothing at ${path}`;
    const aside = `${path}.damaged-${new Date().toISOString().replace(/[-:.]/g, "")}`;
    renameSync(path, aside);
    return `moved ${path} to ${aside}`;
  }
  // A cluster store's keys all sit in one slot: SCAN its master.
  const cluster = /^rediss?-cluster:/.test(url) ? new RedisClusterOnlineStore(parseClusterUrl(url)) : null;
  const { url: server, prefix } = cluster ? { url: await cluster.masterUrl(), prefix: cluster.config.prefix } : redisConfig(url);
  await cluster?.close();
  const client = new RedisClient(server);
  try {
    let cursor = "0";
    let removed = 0;
    do {
      // The pattern is the configured prefix, with glob characters escaped.
      const [next, keys] = (await client.send("SCAN", [cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", "1000"])) as [string, string[]];
      if (keys.length) await client.send("UNLINK", keys);
      removed += keys.length;
      cursor = String(next);
    } while (cursor !== "0");
    return `deleted the ${removed} keys under "${prefix}"`;
  } finally {
    client.close();
  }
}
