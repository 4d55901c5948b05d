/**
 * An entity with two join keys (int64 + string), through historical retrieval and online
 * lookups, against the reference.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { close, referenceValues, trainingSetMismatches } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, T0, TTL, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const COMPOSITE = FEATURES_TS.replace('joinKeys: { user_id: "int64" }', 'joinKeys: { user_id: "int64", region: "string" }').replace(
  "user_id: z.int(),",
  "user_id: z.int(), region: z.string(),",
);
// The reference's key k becomes (user_id, region); the same user_id in two regions is
// two entities, so region must really take part in the key.
const key = (k: number) => ({ user_id: Math.ceil(k / 2), region: k % 2 ? "eu" : "us" });

test("composite join keys: historical and online equal the reference", async () => {
  const events = randomEvents(61, 500);
  const labels = randomLabels(61, events, 200);
  const repo = tempRepo({
    "features/stats.ts": COMPOSITE,
    "data/events.csv": toCsv(
      ["user_id", "region", "ts", "amount", "category"],
      events.map((e) => ({ ...key(e.key), ts: new Date(e.ts).toISOString(), amount: e.amount, category: e.category })),
    ),
    "labels.csv": toCsv(
      ["user_id", "region", "event_timestamp"],
      labels.map((l) => ({ ...key(l.user_id), event_timestamp: new Date(l.t).toISOString() })),
    ),
  });
  repos.push(repo);
  await repo.larder.apply();
  const refs = repo.larder.registry().service("all").features;
  const set42 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs, collect: true });
  const rows = set42.records!;
  expect(rows.map((r) => ({ user_id: r.user_id, region: r.region }))).toEqual(labels.map((l) => key(l.user_id)));
  expect(trainingSetMismatches(rows, labels, events, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);

  const end = T0 + 20 * 86_400_000;
  await repo.larder.materialize({ end });
  const ks = [1, 2, 3, 4, 7];
  const online = await getOnlineFeatures(
    repo.larder.registry(),
    repo.larder.store(),
    {
      refs,
      entities: { user_id: ks.map((k) => key(k).user_id), region: ks.map((k) => key(k).region) },
      at: end + 1,
    },
    10,
  );
  online.results.forEach((r, i) => {
    const want = referenceValues(events, ks[i]!, end + 1, TTL, REF_FEATURES);
    for (const f of REF_FEATURES) expect(close(r.values[f.name], want[f.name])).toBe(true);
  });
  await expect(getOnlineFeatures(repo.larder.registry(), repo.larder.store(), { refs, entities: { user_id: [1] }, at: end + 1 }, 10)).rejects.toThrow(
    'entities: missing join key "region" of entity "user"',
  );
});
