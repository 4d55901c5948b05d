/**
 * The Redis online store behind the whole product, against a real redis-server: lookups
 * after materialization and pushes equal the reference; Redis going away answers 503 and
 * serving recovers when it returns; two servers on one Redis see each other's pushes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Larder } from "../src/larder.ts";
import { loadConfig } from "../src/config/config.ts";
import { startServer } from "../src/server/start-server.ts";
import type { RefEvent } from "./helpers/reference.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { startRedis, type RedisServer } from "./helpers/redis-server.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { SKIP } from "./helpers/needs.ts";

let redis!: RedisServer;
const repos: TempRepo[] = [];
beforeAll(async () => {
  if (!SKIP.redis) redis = (await startRedis())!;
});
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await redis?.stop();
});

const DAY = 86_400_000;
const USERS = [1, 2, 3, 4, 5, 6, 7, 8];
const row = pushRow;
let prefixes = 0;

function redisRepo(batch: RefEvent[]): TempRepo {
  const repo = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(batch) }, { online: `${redis!.url}?prefix=it${prefixes++}:`, port: "0" });
  repos.push(repo);
  return repo;
}

const mismatches = (larder: Larder, t: number, events: RefEvent[]) => onlineMismatches(larder, t, events, USERS);

describe("Redis online store", () => {
  test.skipIf(SKIP.redis)(
    "materialize, incremental, pushes: lookups equal the reference",
    async () => {
      const all = randomEvents(41, 400);
      const middle = T0 + 10 * DAY;
      const repo = redisRepo(all.filter((e) => e.ts < middle));
      await repo.larder.apply();
      expect(repo.larder.store().kind).toBe("redis");
      await repo.larder.materialize({ end: middle });
      expect(
        await mismatches(
          repo.larder,
          middle,
          all.filter((e) => e.ts < middle),
        ),
      ).toEqual([]);
      const later = all
        .filter((e) => e.ts >= middle)
        .sort((a, b) => a.ts - b.ts)
        .map((e, i) => ({ ...e, seq: all.length + i }));
      for (let i = 0; i < later.length; i += 20) await repo.larder.push({ source: "events_push", rows: later.slice(i, i + 20).map(row), to: "online" });
      const known = [...all.filter((e) => e.ts < middle), ...later];
      const end = Math.max(...known.map((e) => e.ts)) + 1;
      expect(await mismatches(repo.larder, end, known)).toEqual([]);
      expect(await mismatches(repo.larder, end + 3 * DAY, known)).toEqual([]);
    },
    30_000,
  );

  test.skipIf(SKIP.redis)(
    "Redis going away answers 503 naming it; serving recovers when it returns",
    async () => {
      const events = randomEvents(42, 100);
      const repo = redisRepo(events);
      await repo.larder.apply();
      await repo.larder.materialize({ end: T0 + 21 * DAY });
      const server = startServer(repo.larder, () => {});
      const lookup = () =>
        fetch(`http://${server.hostname}:${server.port}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ service: "all", entities: { user_id: [1, 2] }, at: T0 + 21 * DAY }),
        });
      try {
        const before = await lookup();
        expect(before.status).toBe(200);
        const body = (await before.json()) as Record<string, unknown>;
        const outage = redis.restart(1500);
        await Bun.sleep(300);
        const during = await lookup();
        expect(during.status).toBe(503);
        const err = (await during.json()) as { code: string; message: string };
        expect(err.code).toBe("online_store_unavailable");
        expect(err.message).toContain(`the online store (Redis at ${redis.url}`);
        await outage;
        let after: Response | undefined;
        for (let i = 0; i < 100 && after?.status !== 200; i++) {
          after = await lookup();
          if (after.status !== 200) await Bun.sleep(50);
        }
        expect(after!.status).toBe(200);
        expect(await after!.json()).toEqual({ ...body, at: expect.any(String) });
      } finally {
        await server.stop();
      }
    },
    30_000,
  );

  test.skipIf(SKIP.redis)(
    "two servers on one Redis: a push to one is served by the other",
    async () => {
      const repo = redisRepo(randomEvents(43, 50));
      await repo.larder.apply();
      await repo.larder.materialize({ end: T0 + 21 * DAY });
      const url = `${redis.url}?prefix=it${prefixes - 1}:`;
      const other = new Larder(loadConfig({ repoDir: repo.dir, online: url, port: 0 }, {}));
      const [a, b] = [startServer(repo.larder, () => {}), startServer(other, () => {})];
      const post = (s: typeof a, path: string, body: unknown) =>
        fetch(`http://${s.hostname}:${s.port}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      try {
        const at = T0 + 22 * DAY;
        const read = async (s: typeof a) =>
          ((await (await post(s, "/v1/features/online", { service: "all", entities: { user_id: [7] }, at })).json()) as { results: { values: Record<string, unknown> }[] })
            .results[0]!.values;
        expect((await read(b)).life_count).toBeNull();
        const pushed = await post(a, "/v1/push", {
          source: "events_push",
          rows: [{ user_id: 7, ts: new Date(T0 + 21 * DAY + 60_000).toISOString(), amount: 12, category: "b", event_id: "x1" }],
        });
        expect(pushed.status).toBe(200);
        expect(await read(b)).toMatchObject({ life_count: 1, life_sum: 12, doubled: 24, category: "b" });
      } finally {
        await a.stop();
        await b.stop();
      }
    },
    30_000,
  );

  test.skipIf(SKIP.redis)("a view of latest values with a ttl: its keys expire one ttl after their values do (Feast's key expiry)", async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const repo = tempRepo(
      {
        "features/p.ts": `
import { entity, fileSource, featureView, count, sql } from "larder";
import { z } from "zod";
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const src = fileSource({ name: "profile", path: "profile.csv", timestampField: "ts", schema: z.object({ user_id: z.int(), ts: z.date(), tier: z.string() }) });
export const profile = featureView({ name: "profile", entity: user, source: src, ttl: "1d", features: { tier: sql("tier") } });
export const activity = featureView({ name: "activity", entity: user, source: src, ttl: "1d", features: { tier: sql("tier"), n_7d: count("7d") } });
`,
        // User 1: fresh. User 2: values expired (1.5 days old). User 3: 3 days old, past the key's life.
        "profile.csv": `user_id,ts,tier\n1,${iso(now - 3_600_000)},gold\n2,${iso(now - 1.5 * DAY)},silver\n3,${iso(now - 3 * DAY)},bronze\n`,
      },
      { online: `${redis.url}?prefix=exp${prefixes++}:` },
    );
    repos.push(repo);
    await repo.larder.apply();
    await repo.larder.materialize({ end: now });
    const { getOnlineFeatures } = await import("../src/online/online-features.ts");
    const look = async (view: string) =>
      (await getOnlineFeatures(repo.larder.registry(), repo.larder.store(), { refs: [{ view, feature: "tier" }], entities: { user_id: [1, 2, 3] } }, 10)).results.map(
        (r) => `${r.values.tier}/${r.statuses.tier}`,
      );
    expect(await look("profile")).toEqual(["gold/present", "null/expired", "null/missing"]);
    // A view with a window keeps every key: its count decays to an exact 0, which needs the record.
    expect(await look("activity")).toEqual(["gold/present", "null/expired", "null/expired"]);
    const client = new Bun.RedisClient(redis.url);
    const keys = (await client.send("KEYS", [`exp${prefixes - 1}:*`])) as string[];
    const ttls = await Promise.all(keys.map(async (k) => Number(await client.send("PTTL", [k]))));
    client.close();
    // Of every key (both views' records, pointers, metadata), only the profile records of
    // users 1 and 2 have an expiry: each its event time + 2 days.
    expect(
      ttls
        .filter((t) => t > 0)
        .sort((a, b) => a - b)
        .map((t) => Math.round(t / 3_600_000)),
    ).toEqual([12, 47]);
  });
});
