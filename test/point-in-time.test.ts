/**
 * Historical retrieval against the brute-force reference on random data: windows with
 * hops, ttl, idle decay, entities with no history, ties, labels at event instants.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { trainingSetMismatches } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, TTL, eventsCsv, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { pick } from "./helpers/pick.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

describe("point-in-time correctness", () => {
  for (const seed of [1, 2, 3]) {
    test(`historical values equal the brute-force reference (seed ${seed})`, async () => {
      const events = randomEvents(seed);
      const labels = randomLabels(seed, events);
      const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events), "labels.csv": labelsCsv(labels) });
      repos.push(repo);
      await repo.larder.apply();
      const refs = repo.larder.registry().service("all").features;
      const result = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs, collect: true });
      expect(result.rows).toBe(labels.length);
      expect(result.columns).toEqual(["user_id", "event_timestamp", "label", ...REF_FEATURES.map((f) => f.name)]);
      const rows = result.records!;
      expect(rows.map((r) => [r.user_id, r.label])).toEqual(labels.map((l) => [l.user_id, l.label]));
      expect(trainingSetMismatches(rows, labels, events, TTL, REF_FEATURES).slice(0, 10)).toEqual([]);
      // The scenario really exercises the edge cases.
      const noHistory = rows.filter((r) => r.life_count === null).length;
      const idleZero = rows.filter((r, i) => labels[i]!.user_id === 3 && r.life_count !== null && r.count_1d === 0).length;
      const expired = rows.filter((r) => r.life_count !== null && r.category === null).length;
      expect(noHistory).toBeGreaterThan(10);
      expect(idleZero).toBeGreaterThan(0);
      expect(expired).toBeGreaterThan(0);
    });
  }

  test("ties at one instant: the later source row wins, and an event at t is not part of t's features", async () => {
    const csv = "user_id,ts,amount,category\n1,2026-01-01T00:00:00.000Z,10,a\n1,2026-01-01T01:00:00.000Z,20,b\n1,2026-01-01T01:00:00.000Z,30,c\n";
    const repo = tempRepo({
      "features/stats.ts": FEATURES_TS,
      "data/events.csv": csv,
      "labels.csv": "user_id,event_timestamp\n1,2026-01-01T01:00:00.000Z\n1,2026-01-01T01:00:00.001Z\n9,2026-01-01T02:00:00.000Z\n",
    });
    repos.push(repo);
    await repo.larder.apply();
    const set50 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
    const rows = pick(set50.records!, ["user_id", "category", "last_1d", "count_1h", "sum_2d", "life_count"]);
    // At 01:00:00.001 the 1h window starts at align(00:00:00.001, 1m) = 00:00, so the
    // 00:00 event is still inside it (the tail moves in whole hops): count_1h is 3.
    expect(rows).toEqual([
      { user_id: 1, category: "a", last_1d: 10, count_1h: 1, sum_2d: 10, life_count: 1 },
      { user_id: 1, category: "c", last_1d: 30, count_1h: 3, sum_2d: 60, life_count: 3 },
      { user_id: 9, category: null, last_1d: null, count_1h: null, sum_2d: null, life_count: null },
    ]);
  });
});
