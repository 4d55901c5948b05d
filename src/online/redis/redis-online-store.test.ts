import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { describeOnlineStoreConformance } from "../conformance.ts";
import { RedisOnlineStore } from "./redis-online-store.ts";
import { startRedis, type RedisServer } from "../../../test/helpers/redis-server.ts";
import { SKIP } from "../../../test/helpers/needs.ts";

let redis!: RedisServer;
beforeAll(async () => {
  if (!SKIP.redis) redis = (await startRedis())!;
});
afterAll(async () => {
  await redis?.stop();
});

let n = 0;
describeOnlineStoreConformance(
  "redis",
  async () => {
    // A fresh key prefix per test: the same server, separate stores.
    const prefix = `t${n++}:`;
    return {
      open: async () => new RedisOnlineStore({ url: redis.url, prefix }),
      destroy: async () => {
        const c = new RedisClient(redis.url);
        const keys = (await c.send("KEYS", [`${prefix}*`])) as string[];
        if (keys.length) await c.send("DEL", keys);
        c.close();
      },
    };
  },
  SKIP.redis,
);

test.skipIf(SKIP.redis)("a store written in another format is refused with what to do", async () => {
  const c = new RedisClient(redis.url);
  await c.send("SET", ["old:meta:format", "1"]);
  c.close();
  const store = new RedisOnlineStore({ url: redis.url, prefix: "old:" });
  expect(store.pointers()).rejects.toThrow("was written by another version of Larder (format 1, this one reads 3): run larder materialize --rebuild");
  await store.close();
});

test.skipIf(SKIP.redis)("a damaged pointer record is named with the way out, not misread", async () => {
  const c = new RedisClient(redis.url);
  await c.send("SET", ["bad:meta:format", "3"]);
  await c.send("SET", ["bad:meta:pointers", '{"v": {"table": 7']);
  c.close();
  const store = new RedisOnlineStore({ url: redis.url, prefix: "bad:" });
  await expect(store.pointers()).rejects.toThrow(`the pointer record in the Redis online store at ${redis.url} (prefix "bad:") is damaged: it is not valid JSON`);
  await expect(store.commit({ table: "v@1#a", records: [], pointers: [], expect: [{ view: "v", runIds: [null] }] })).rejects.toThrow("run larder materialize --rebuild");
  await store.close();
});
