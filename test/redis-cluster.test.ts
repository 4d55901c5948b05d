/**
 * Larder on a real Redis Cluster (three masters, three replicas, Debian's redis-server):
 * `larder materialize` and two `larder serve` replicas with LARDER_ONLINE=redis-cluster://
 * serve the reference's values alike; and the master holding the store killed while
 * pushes go on, its replica promoted: every acknowledged push is there, once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { keySlot } from "../src/online/redis/cluster-slot.ts";
import { SKIP } from "./helpers/needs.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { randomEvents } from "./helpers/random-scenario.ts";
import type { RefEvent } from "./helpers/reference.ts";
import { startRedisCluster, type RedisCluster } from "./helpers/redis-cluster.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const USERS = [1, 2, 3, 4, 5, 6, 8];
let cluster: RedisCluster | null = null;
const repos: TempRepo[] = [];
beforeAll(async () => {
  if (!SKIP.redis) cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await cluster?.stop();
});

describe("Redis Cluster online store", () => {
  test.skipIf(SKIP.redis)(
    "larder materialize, then two larder serve replicas on the cluster answer the reference's values alike",
    async () => {
      const events = randomEvents(21, 500);
      const online = `${cluster!.url}?prefix=two:`;
      const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events) }, { online, schedules: "off" });
      repos.push(r);
      const env = { ...process.env, LARDER_ONLINE: online, LARDER_SCHEDULES: "off", LARDER_PORT: "0" };
      const t = Math.max(...events.map((e) => e.ts)) + 1;
      for (const args of [["apply"], ["materialize", "--end", new Date(t).toISOString()]]) {
        const p = Bun.spawnSync([process.execPath, MAIN, ...args, "--repo", r.dir], { env, stdout: "pipe", stderr: "pipe" });
        if (p.exitCode !== 0) throw new Error(`larder ${args.join(" ")}: ${p.stderr.toString()}`);
      }
      const replicas = [0, 1].map(() => Bun.spawn([process.execPath, MAIN, "serve", "--repo", r.dir], { env, stdout: "pipe", stderr: "pipe" }));
      try {
        const urls = await Promise.all(replicas.map((p) => serverUrl(p)));
        const answers = await Promise.all(
          urls.map(async (url) => {
            const res = await fetch(`${url}/v1/features/online`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ service: "all", entities: { user_id: USERS }, at: t }),
            });
            expect(res.status).toBe(200);
            return ((await res.json()) as { results: unknown[] }).results;
          }),
        );
        expect(answers[1]).toEqual(answers[0]!);
        const health = (await (await fetch(`${urls[0]}/health`)).json()) as { store: string };
        expect(health.store).toBe("redis-cluster");
      } finally {
        for (const p of replicas) p.kill("SIGTERM");
        await Promise.all(replicas.map((p) => p.exited));
      }
      // And the values are the reference's.
      const reader = new Larder(loadConfig({ repoDir: r.dir, online, schedules: "off" }, {}));
      try {
        expect(await onlineMismatches(reader, t, events, USERS)).toEqual([]);
      } finally {
        await reader.close();
      }
    },
    120_000,
  );

  test.skipIf(SKIP.redis)(
    "the store's master killed mid-stream, its replica promoted: every acknowledged push is applied, once",
    async () => {
      const online = `${cluster!.url}?prefix=failover:`;
      const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv([]) }, { online, schedules: "off" });
      repos.push(r);
      await r.larder.apply();
      const events = randomEvents(33, 600);
      const batches: RefEvent[][] = [];
      for (let i = 0; i < events.length; i += 20) batches.push(events.slice(i, i + 20));
      const master = await cluster!.masterOf(keySlot("{failover}:"));
      let slowest = 0;
      let killed = false;
      for (const [i, batch] of batches.entries()) {
        if (i === Math.floor(batches.length / 3) && !killed) {
          killed = true;
          await cluster!.kill(master);
        }
        // A push that was not acknowledged is sent again (its event ids make that safe).
        const started = performance.now();
        for (let tries = 0; ; tries++) {
          try {
            await r.larder.push({ source: "events_push", rows: batch.map(pushRow), to: "online" });
            break;
          } catch (err) {
            if (tries > 100) throw err;
            await Bun.sleep(200);
          }
        }
        slowest = Math.max(slowest, performance.now() - started);
      }
      await cluster!.healthy(keySlot("{failover}:"));
      expect(await cluster!.masterOf(keySlot("{failover}:"))).not.toBe(master);
      // The push that met the dead master waited out the promotion (the node timeout is 2 s).
      expect(slowest).toBeGreaterThan(1500);
      const t = Math.max(...events.map((e) => e.ts)) + 1;
      const reader = new Larder(loadConfig({ repoDir: r.dir, online, schedules: "off" }, {}));
      try {
        const counts = await reader.lookup({ refs: [{ view: "user_stats", feature: "life_count" }], entities: { user_id: USERS }, at: t });
        expect(counts.results.map((x) => x.values.life_count)).toEqual(USERS.map((u) => events.filter((e) => e.key === u).length));
        expect(await onlineMismatches(reader, t, events, USERS)).toEqual([]);
      } finally {
        await reader.close();
      }
    },
    180_000,
  );
});
