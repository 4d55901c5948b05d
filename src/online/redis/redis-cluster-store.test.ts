import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { describeOnlineStoreConformance } from "../conformance.ts";
import { keySlot } from "./cluster-slot.ts";
import { RedisClusterOnlineStore, parseClusterUrl } from "./redis-cluster-store.ts";
import { RedisOnlineStore } from "./redis-online-store.ts";
import { startRedisCluster, type RedisCluster } from "../../../test/helpers/redis-cluster.ts";
import { SKIP } from "../../../test/helpers/needs.ts";

let cluster: RedisCluster | null = null;
beforeAll(async () => {
  if (!SKIP.redis) cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

let n = 0;
describeOnlineStoreConformance(
  "redis-cluster",
  async () => {
    // A fresh prefix per test: each its own hash slot, so the tests land on every master.
    const prefix = `c${n++}:`;
    const config = parseClusterUrl(`${cluster!.url}?prefix=${prefix}`);
    return {
      open: async () => new RedisClusterOnlineStore(config),
      destroy: async () => {
        const master = await cluster!.masterOf(keySlot(config.prefix));
        const c = new RedisClient(`redis://${master}`);
        const keys = (await c.send("KEYS", [`${config.prefix.replace(/[{}]/g, "\\$&")}*`])) as string[];
        if (keys.length) await c.send("DEL", keys);
        c.close();
      },
    };
  },
  SKIP.redis,
);

test("the cluster URL: seeds, a prefix with its hash tag, replicas to wait for", () => {
  expect(parseClusterUrl("redis-cluster://a:1,b:2")).toEqual({ seeds: ["a:1", "b:2"], prefix: "{larder}:", auth: "", waitReplicas: 1, tls: false });
  expect(parseClusterUrl("rediss-cluster://u:p@a:1?prefix=fraud:&wait=0")).toEqual({ seeds: ["a:1"], prefix: "{fraud}:", auth: "u:p@", waitReplicas: 0, tls: true });
  expect(parseClusterUrl("redis-cluster://a:1?prefix={t}:x:").prefix).toBe("{t}:x:");
});

test.skipIf(SKIP.redis)("redis:// at a cluster node says to use redis-cluster://", async () => {
  // A prefix whose slot is not on the first node: the node answers MOVED.
  const first = cluster!.nodes[0]!;
  let prefix = "";
  for (let i = 0; ; i++) {
    prefix = `p${i}:`;
    if ((await cluster!.masterOf(keySlot(`${prefix}meta:format`))) !== first) break;
  }
  const store = new RedisOnlineStore({ url: `redis://${first}`, prefix });
  await expect(store.pointers()).rejects.toThrow("is a Redis Cluster node (MOVED");
  await expect(store.pointers()).rejects.toThrow("use LARDER_ONLINE=redis-cluster://host:port,host:port");
  await store.close();
});
