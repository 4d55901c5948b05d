/**
 * Materializations of one view at once, in separate processes and on separate replicas,
 * against the brute-force reference: runs are serialized by the view's lease and every
 * switch is checked, so a full and an incremental run, or two incremental runs, leave the
 * view served whole with every event counted once — on LMDB and on Redis alike. Two
 * `larder serve` replicas with schedules on, one of them killed with SIGKILL mid-way,
 * give the numbers a single run gives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { RedisClient } from "bun";
import { onlineMismatches } from "./helpers/push-scenario.ts";
import { FEATURES_TS, T0, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import type { RefEvent } from "./helpers/reference.ts";
import { startRedis, type RedisServer } from "./helpers/redis-server.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { SKIP } from "./helpers/needs.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const DAY = 86_400_000;
const USERS = [1, 2, 3, 4, 5, 6, 7, 8];

let redis!: RedisServer;
const repos: TempRepo[] = [];
beforeAll(async () => {
  if (!SKIP.redis) redis = (await startRedis())!;
});
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await redis?.stop();
});

function larderCli(dir: string, env: Record<string, string>, ...args: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd: dir, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return (async () => ({ code: await p.exited, stderr: await new Response(p.stderr).text() }))();
}

/** The online store to test on: LMDB, or a fresh prefix of the test's Redis. */
const onlineOf = (name: string) => (name === "lmdb" ? "lmdb" : `${redis.url}?prefix=cm${Math.random().toString(36).slice(2, 8)}:`);

describe("concurrent materialization", () => {
  for (const name of ["lmdb", "redis"]) {
    test.skipIf(name === "redis" && SKIP.redis)(
      `${name}: full + incremental and incremental + incremental at once, as separate processes, equal the reference`,
      async () => {
        const backend = { name, online: onlineOf(name) };
        const events = randomEvents(2101);
        const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) }, { online: backend.online });
        repos.push(r);
        await r.larder.apply();
        await r.larder.materialize({ end: T0 + 8 * DAY });
        await r.larder.close();
        const env = { LARDER_ONLINE: backend.online };
        const pairs = [
          ["--incremental", "--incremental"],
          ["", "--incremental"],
          ["--incremental", ""],
          ["--incremental", "--incremental"],
          ["", ""],
        ];
        let end = T0 + 8 * DAY;
        for (const [a, b] of pairs) {
          end += DAY + 3_600_000;
          const at = new Date(end).toISOString();
          const runs = await Promise.all([a, b].map((mode) => larderCli(r.dir, env, "materialize", "--end", at, ...(mode ? [mode] : []))));
          expect(runs.map((x) => (x.code === 0 ? 0 : x.stderr))).toEqual([0, 0]);
          // Served whole, at the new watermark, with every event before it counted once.
          const pointer = (await r.larder.store().pointers()).get("user_stats")!;
          expect(pointer.watermark).toBe(end);
          expect(await r.larder.store().tables()).toEqual([pointer.table]);
          expect(
            await onlineMismatches(
              r.larder,
              end,
              events.filter((e) => e.ts < end),
              USERS,
            ),
          ).toEqual([]);
          await r.larder.close();
        }
      },
      120_000,
    );
  }
});

describe("replicas with schedules on", () => {
  /** The random scenario's events, a third moved into the last two days and the rest spread over the next `aheadMs`, so every scheduled run has new ones. */
  function liveEvents(now: number, aheadMs: number): RefEvent[] {
    const base = randomEvents(2202, 600);
    const first = Math.min(...base.map((e) => e.ts));
    const span = Math.max(...base.map((e) => e.ts)) - first;
    return base.map((e, i) => ({ ...e, ts: i % 3 === 0 ? now - 2 * DAY + Math.round(((e.ts - first) / span) * 2 * DAY) : now + Math.round(((e.ts - first) / span) * aheadMs) }));
  }

  test.skipIf(SKIP.redis)(
    "two serve replicas on one Redis, schedules every second, one killed mid-way: counts equal the reference",
    async () => {
      const online = `${redis.url}?prefix=rep${Math.random().toString(36).slice(2, 8)}:`;
      const now = Date.now();
      const events = liveEvents(now, 8_000);
      const features = FEATURES_TS.replace('  ttl: "3d",', '  ttl: "3d",\n  schedule: "* * * * * *",');
      const r = tempRepo({ "features/stats.ts": features, "data/events.csv": eventsCsv(events) }, { online });
      repos.push(r);
      await r.larder.apply();
      await r.larder.close();
      const env = { ...process.env, LARDER_ONLINE: online, LARDER_LEASE_TTL: "2s", LARDER_PORT: "0" };
      const replica = () => Bun.spawn([process.execPath, MAIN, "serve"], { cwd: r.dir, env, stdout: "pipe", stderr: "pipe" });
      const a = replica();
      const b = replica();
      try {
        await Promise.all([serverUrl(a), serverUrl(b)]);
        // Both run every second's tick for a while; then one dies without a word, maybe mid-run.
        await Bun.sleep(5_000 + Math.random() * 1_000);
        a.kill("SIGKILL");
        await a.exited;
        // The other goes on until every event is in the past and a run has taken it in.
        const lastEvent = Math.max(...events.map((e) => e.ts));
        for (let i = 0; i < 100; i++) {
          const p = (await r.larder.store().pointers()).get("user_stats");
          if (p && p.watermark > lastEvent + 1_000) break;
          await Bun.sleep(200);
        }
      } finally {
        a.kill("SIGKILL");
        b.kill("SIGTERM");
        await Promise.all([a.exited, b.exited]);
      }
      const pointer = (await r.larder.store().pointers()).get("user_stats")!;
      expect(pointer.watermark).toBeGreaterThan(Math.max(...events.map((e) => e.ts)));
      expect(await r.larder.store().tables()).toEqual([pointer.table]);
      expect(
        await onlineMismatches(
          r.larder,
          pointer.watermark,
          events.filter((e) => e.ts < pointer.watermark),
          USERS,
        ),
      ).toEqual([]);
      // Ticks that met a run going on the other replica were skipped, not run twice.
      const runs = await r.larder.runs.list({ kind: "materialize", view: "user_stats", limit: 1000 });
      expect(runs.filter((x) => x.status === "succeeded").length).toBeGreaterThan(5);
      expect(runs.some((x) => x.status === "skipped" && String(x.details.reason).includes("materialized elsewhere"))).toBe(true);
      const c = new RedisClient(redis.url);
      expect((await c.send("KEYS", [`${online.split("prefix=")[1]}lease:*`])) as string[]).toEqual([]);
      c.close();
    },
    60_000,
  );
});
