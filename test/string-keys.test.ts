/**
 * Entities with a string join key take the general path of the point-in-time sweep
 * (DuckDB numbers and sorts the entities): same semantics, same reference, ties included.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { close, referenceValues, trainingSetMismatches } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, T0, TTL, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";
import { pick } from "./helpers/pick.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

// No string `sql` feature: then the sweep reads no source order column, and the order of
// events at one instant must still come from the source.
const STRING_KEYS = FEATURES_TS.replace('joinKeys: { user_id: "int64" }', 'joinKeys: { user_id: "string" }')
  .replace("user_id: z.int()", "user_id: z.string()")
  .replace('    category: sql("category"),\n', "");
const FEATURES = REF_FEATURES.filter((f) => f.name !== "category");

test("string join keys: historical and online equal the reference", async () => {
  const events = randomEvents(51, 500);
  const labels = randomLabels(51, events, 200);
  const name = (k: number) => `user ${k} ✓`;
  const repo = tempRepo({
    "features/stats.ts": STRING_KEYS,
    "data/events.csv": toCsv(
      ["user_id", "ts", "amount", "category"],
      events.map((e) => ({ user_id: name(e.key), ts: new Date(e.ts).toISOString(), amount: e.amount, category: e.category })),
    ),
    "labels.csv": toCsv(
      ["user_id", "event_timestamp"],
      labels.map((l) => ({ user_id: name(l.user_id), event_timestamp: new Date(l.t).toISOString() })),
    ),
  });
  repos.push(repo);
  await repo.larder.apply();
  expect(repo.larder.registry().data.views.user_stats!.definition.features.some((f) => f.name === "category")).toBe(false);
  const refs = repo.larder.registry().service("all").features;
  const set43 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs, collect: true });
  const rows = set43.records!;
  expect(rows.map((r) => r.user_id)).toEqual(labels.map((l) => name(l.user_id)));
  expect(trainingSetMismatches(rows, labels, events, TTL, FEATURES).slice(0, 5)).toEqual([]);

  const end = T0 + 20 * 86_400_000;
  await repo.larder.materialize({ end });
  const online = await getOnlineFeatures(repo.larder.registry(), repo.larder.store(), { refs, entities: { user_id: [1, 2, 3, 7].map(name) }, at: end + 1 }, 10);
  online.results.forEach((r, i) => {
    const want = referenceValues(events, [1, 2, 3, 7][i]!, end + 1, TTL, FEATURES);
    for (const f of FEATURES) expect(close(r.values[f.name], want[f.name])).toBe(true);
  });
});

test("string join keys: at one instant the later source row wins, whatever its value", async () => {
  const csv = "user_id,ts,amount,category\nu1,2026-01-01T00:00:00.000Z,5,a\nu1,2026-01-01T01:00:00.000Z,30,b\nu1,2026-01-01T01:00:00.000Z,20,c\n";
  const repo = tempRepo({
    "features/stats.ts": STRING_KEYS,
    "data/events.csv": csv,
    "labels.csv": "user_id,event_timestamp\nu1,2026-01-01T01:00:00.001Z\n",
  });
  repos.push(repo);
  await repo.larder.apply();
  // last_1d first: its input (amount) becomes the first column read, the one a sort by
  // position would wrongly order ties by.
  const refs = ["last_1d", "doubled", "count_1h", "life_max"].map((f) => ({ view: "user_stats", feature: f }));
  const set69 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs, collect: true });
  const rows = pick(set69.records!, ["user_id", "doubled", "last_1d", "count_1h", "life_max"]);
  expect(rows).toEqual([{ user_id: "u1", doubled: 40, last_1d: 20, count_1h: 3, life_max: 30 }]);
});
