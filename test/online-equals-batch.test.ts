/**
 * Online lookups from LMDB equal batch (historical) values at the same instant, for full
 * and incremental materialization, and keep equalling them as time passes with no new
 * materialization (windows decay from tiles; latest values expire after ttl).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { close, referenceValues } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, T0, TTL, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const USERS = [1, 2, 3, 4, 5, 6, 7, 8];
// Instants at and after the watermark: now, minutes, hours, days and past every window.
const offsets = [0, 1, 59_999, 60_000, 3_599_999, 5 * 3_600_000 + 17, DAY, 2 * DAY + 1, 3 * DAY + 5, 8 * DAY, 40 * DAY];

/**
 * Online values at `instants` against the reference over `events` (what was materialized)
 * and, when `batch` is set, against historical retrieval, which sees every event before t:
 * the two agree only where no event falls between the watermark and t.
 */
async function compareAt(repo: TempRepo, instants: number[], events: ReturnType<typeof randomEvents>, batch = true) {
  const registry = repo.larder.registry();
  const refs = registry.service("all").features;
  // Batch: the same instants as label rows.
  const labels = instants.flatMap((t) => USERS.map((u) => ({ user_id: u, event_timestamp: new Date(t).toISOString() })));
  const labelsPath = join(repo.dir, `labels-${instants[0]}.csv`);
  writeFileSync(labelsPath, toCsv(["user_id", "event_timestamp"], labels));
  const set36 = await repo.larder.historical({ labelsPath, refs, collect: true });
  const batchRows = set36.records!;
  const mismatches: string[] = [];
  let row = 0;
  for (const t of instants) {
    const online = await getOnlineFeatures(registry, repo.larder.store(), { refs, entities: { user_id: USERS }, at: t }, 100);
    online.results.forEach((r, i) => {
      const b = batchRows[row++]!;
      const want = referenceValues(events, USERS[i]!, t, TTL, REF_FEATURES);
      for (const f of REF_FEATURES) {
        if (batch && !close(r.values[f.name], b[f.name]))
          mismatches.push(`t=${new Date(t).toISOString()} user ${USERS[i]} ${f.name}: online ${r.values[f.name]}, batch ${b[f.name]}`);
        if (!close(r.values[f.name], want[f.name]))
          mismatches.push(`t=${new Date(t).toISOString()} user ${USERS[i]} ${f.name}: online ${r.values[f.name]}, reference ${want[f.name]}`);
      }
      const seen = events.some((e) => e.key === USERS[i] && e.ts < t);
      if (!seen) expect(r.statuses.count_1d).toBe("missing");
    });
  }
  expect(mismatches.slice(0, 10)).toEqual([]);
}

describe("online serving equals batch at the same instant", () => {
  test("full materialization, then time passes", async () => {
    const events = randomEvents(11);
    const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
    repos.push(repo);
    await repo.larder.apply();
    const end = T0 + 20 * DAY;
    const [run] = await repo.larder.materialize({ end });
    expect(run!.mode).toBe("full");
    expect(run!.events).toBe(events.length);
    await compareAt(
      repo,
      offsets.map((o) => end + o),
      events,
    );
    // Long after: windows are empty (count 0), latest values expired, lifetime kept.
    const late = await getOnlineFeatures(
      repo.larder.registry(),
      repo.larder.store(),
      { refs: repo.larder.registry().service("all").features, entities: { user_id: [1] }, at: end + 40 * DAY },
      10,
    );
    expect(late.results[0]!.values.count_1d).toBe(0);
    expect(late.results[0]!.values.sum_2d).toBe(0);
    expect(late.results[0]!.values.mean_7d).toBeNull();
    expect(late.results[0]!.statuses.doubled).toBe("expired");
    expect(late.results[0]!.values.life_count).toBe(events.filter((e) => e.key === 1).length);
  });

  test("a mid-way full run plus an incremental run equals one full run", async () => {
    const events = randomEvents(12);
    const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
    repos.push(repo);
    await repo.larder.apply();
    const middle = T0 + 9 * DAY + 12_345;
    const end = T0 + 20 * DAY;
    await repo.larder.materialize({ end: middle });
    const early = events.filter((e) => e.ts < middle);
    await compareAt(repo, [middle], early);
    // An hour later online still holds only events before the watermark (later ones
    // arrive with the incremental run), so only the reference over those applies.
    await compareAt(repo, [middle + 3_600_000], early, false);
    const [inc] = await repo.larder.materialize({ incremental: true, end });
    expect(inc!.mode).toBe("incremental");
    expect(inc!.events).toBe(events.length - early.length);
    await compareAt(
      repo,
      offsets.map((o) => end + o),
      events,
    );
  });

  test("at before the watermark is refused: online lookups never pretend to know the past", async () => {
    const events = randomEvents(13, 50);
    const repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events) });
    repos.push(repo);
    await repo.larder.apply();
    const end = T0 + 20 * DAY;
    await repo.larder.materialize({ end });
    const refs = repo.larder.registry().service("all").features;
    await expect(getOnlineFeatures(repo.larder.registry(), repo.larder.store(), { refs, entities: { user_id: [1] }, at: end - 1 }, 10)).rejects.toThrow(
      /is before the data served for "user_stats"/,
    );
  });
});
