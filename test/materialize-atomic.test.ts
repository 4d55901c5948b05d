/**
 * A materialization that dies part-way leaves the previous state served, whole; the next
 * run clears what the failed one left. A new definition version never mixes with the old:
 * the old version is served (with its own definition) until the new one is materialized.
 */
import { afterAll, expect, test } from "bun:test";
import { materialize } from "../src/materialize/materialize.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import type { Commit, OnlineStore } from "../src/online/online-store.ts";
import { FEATURES_TS, T0, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

/** The real store, with its n-th commit failing as a crash would (nothing of it written). */
function failingOnCommit(store: OnlineStore, n: number): OnlineStore {
  let commits = 0;
  return {
    kind: store.kind,
    capabilities: store.capabilities,
    read: (t, k) => store.read(t, k),
    pointers: () => store.pointers(),
    dropTable: (t) => store.dropTable(t),
    tables: () => store.tables(),
    close: () => store.close(),
    update: (u) => store.update(u),
    acquireLease: (n, h, ttl) => store.acquireLease(n, h, ttl),
    releaseLease: (n, h) => store.releaseLease(n, h),
    async commit(c: Commit) {
      if (++commits === n) throw new Error("simulated crash during materialization");
      return store.commit(c);
    },
  };
}

async function snapshot(repo: TempRepo, at: number) {
  const registry = repo.larder.registry();
  return getOnlineFeatures(registry, repo.larder.store(), { refs: registry.service("all").features, entities: { user_id: [1, 2, 3, 4, 5, 6, 7, 8] }, at }, 100);
}

test("a run that fails part-way changes nothing that is served; the next run cleans up", async () => {
  const events = randomEvents(21);
  const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
  repos.push(repo);
  await repo.larder.apply();
  const first = T0 + 10 * DAY;
  const [run1] = await repo.larder.materialize({ end: first });
  const before = await snapshot(repo, T0 + 21 * DAY);
  const ctx = repo.larder.ctx;
  const duck = await repo.larder.duck();
  // Chunks of 2 entities: commits 1–3 write chunks of the new table, commit 4 would switch.
  for (const failAt of [2, 4]) {
    const faulty = failingOnCommit(repo.larder.store(), failAt);
    await expect(materialize(duck, repo.larder.registry(), faulty, ctx, { end: T0 + 20 * DAY, chunkSize: 2 })).rejects.toThrow("simulated crash");
    const pointer = (await repo.larder.store().pointers()).get("user_stats")!;
    expect(pointer.table).toBe(run1!.table);
    expect(pointer.watermark).toBe(first);
    expect(await snapshot(repo, T0 + 21 * DAY)).toEqual(before);
  }
  // A run that fails drops what it wrote (one killed outright leaves it to the next run).
  expect(await repo.larder.store().tables()).toEqual([run1!.table]);
  const [run2] = await repo.larder.materialize({ end: T0 + 20 * DAY, chunkSize: 2 });
  expect(await repo.larder.store().tables()).toEqual([run2!.table]);
  expect((await snapshot(repo, T0 + 21 * DAY)).results[0]!.values.life_count).toBe(events.filter((e) => e.key === 1).length);
});

test("a changed definition is a new version; the old one is served until the new one is materialized", async () => {
  const events = randomEvents(22);
  const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
  repos.push(repo);
  await repo.larder.apply();
  const end = T0 + 20 * DAY;
  const [old] = await repo.larder.materialize({ end });
  repo.write("features/stats.ts", FEATURES_TS.replace('count_1d: count("1d")', 'count_1d: count("2d")'));
  const plan = await repo.larder.apply();
  const change = plan.changes.find((c) => c.name === "user_stats")!;
  expect(change.action).toBe("change");
  expect(change.fields).toEqual(["features.count_1d.hop: 300000 → 3600000", "features.count_1d.window: 86400000 → 172800000"]);
  expect(change.newVersion).not.toBe(change.oldVersion);
  const at = end + 60_000;
  const registry = repo.larder.registry();
  const served = await getOnlineFeatures(registry, repo.larder.store(), { refs: [{ view: "user_stats", feature: "count_1d" }], entities: { user_id: [1] }, at }, 10);
  const oneDay = events.filter((e) => e.key === 1 && e.ts >= Math.floor((at - DAY) / 300_000) * 300_000 && e.ts < at).length;
  expect(served.results[0]!.values.count_1d).toBe(oneDay);
  const [next] = await repo.larder.materialize({ end });
  expect(next!.version).toBe(change.newVersion!);
  expect(next!.table).not.toBe(old!.table);
  const twoDays = events.filter((e) => e.key === 1 && e.ts >= Math.floor((at - 2 * DAY) / 3_600_000) * 3_600_000 && e.ts < at).length;
  const now = await getOnlineFeatures(repo.larder.registry(), repo.larder.store(), { refs: [{ view: "user_stats", feature: "count_1d" }], entities: { user_id: [1] }, at }, 10);
  expect(now.results[0]!.values.count_1d).toBe(twoDays);
  expect(twoDays).toBeGreaterThan(oneDay);
  expect(await repo.larder.store().tables()).toEqual([next!.table]);
});

test("--views and --start/--end bound a full run: online holds exactly the events in [start, end)", async () => {
  const events = randomEvents(23);
  const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
  repos.push(repo);
  await repo.larder.apply();
  const start = T0 + 5 * DAY + 1234;
  const end = T0 + 12 * DAY;
  const [run, ...others] = await repo.larder.materialize({ views: ["user_stats"], start, end });
  expect(others).toEqual([]);
  const inRange = events.filter((e) => e.ts >= start && e.ts < end);
  expect(run!.events).toBe(inRange.length);
  expect(run!.watermark).toBe(end);
  const online = await snapshot(repo, end + 60_000);
  const users = [1, 2, 3, 4, 5, 6, 7, 8];
  online.results.forEach((r, i) => {
    const want = inRange.filter((e) => e.key === users[i]).length;
    expect(r.values.life_count).toBe(want === 0 ? null : want);
  });
  await expect(repo.larder.materialize({ views: ["nope"] })).rejects.toThrow('feature view "nope" not found');
});
