/** A static table of online-store implementations, chosen by the configured URL. */
import { join } from "node:path";
import { BadRequestError } from "../errors.ts";
import { LmdbOnlineStore } from "./lmdb/lmdb-online-store.ts";
import { RedisOnlineStore } from "./redis/redis-online-store.ts";
import type { OnlineStore } from "./online-store.ts";

type Factory = (url: string, dataDir: string) => OnlineStore;

const implementations = {
  lmdb: (url, dataDir) => new LmdbOnlineStore({ path: url.startsWith("lmdb://") ? url.slice("lmdb://".length) : join(dataDir, "online") }),
  redis: (url) => redisStore(url),
  rediss: (url) => redisStore(url),
} satisfies Record<string, Factory>;

export function openOnlineStore(url: string, dataDir: string): OnlineStore {
  const kind = url === "lmdb" ? "lmdb" : url.split("://")[0]!;
  const factory = (implementations as Record<string, Factory>)[kind];
  if (!factory) throw new BadRequestError(`online store "${url}" is not supported here: use "lmdb", "lmdb:///path" or "redis://host:port[/db][?prefix=larder:]"`, "invalid_config");
  return factory(url, dataDir);
}

/** `redis://[user:pass@]host:port[/db][?prefix=…]`: the prefix (default "larder:") namespaces every key. */
function redisStore(url: string): OnlineStore {
  const u = new URL(url);
  const prefix = u.searchParams.get("prefix") ?? "larder:";
  u.search = "";
  return new RedisOnlineStore({ url: u.toString(), prefix });
}
