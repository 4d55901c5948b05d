/**
 * Streaming by push: random event streams (time order with late and out-of-order events),
 * pushed in random batches after a materialization, queried online at random instants:
 * every value equals the brute-force reference, and afterwards historical retrieval
 * (which reads the pushed segments) and further materialization runs agree too.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Random } from "../src/demo/random.ts";
import { LookupTooEarlyError } from "../src/errors.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { startServer } from "../src/server/start-server.ts";
import { close, referenceValues, type RefEvent } from "./helpers/reference.ts";
import { REF_FEATURES, T0, TTL, randomEvents } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, onlineMismatches as checkOnline, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});
const USERS = [1, 2, 3, 4, 5, 6, 7, 8, 9];

const row = pushRow;
const csv = pushCsv;

function pushRepo(batch: RefEvent[]): TempRepo {
  const repo = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": csv(batch) });
  repos.push(repo);
  return repo;
}

const onlineMismatches = (repo: TempRepo, t: number, events: RefEvent[]) => checkOnline(repo.larder, t, events, USERS);

/**
 * A stream after `from`: the scenario's later events in time order, a tenth of them
 * delayed (arriving up to two days late), each with a fresh seq after the batch rows.
 */
function stream(seed: number, events: RefEvent[], from: number): RefEvent[] {
  const rnd = new Random(seed);
  const later = events.filter((e) => e.ts >= from).sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  const arrivals = later.map((e) => ({ e, at: e.ts + (rnd.chance(0.1) ? rnd.int(0, 2 * DAY) : 0) }));
  arrivals.sort((a, b) => a.at - b.at);
  const firstSeq = events.length;
  return arrivals.map(({ e }, i) => ({ ...e, seq: firstSeq + i }));
}

describe("push: online equals the reference at every instant", () => {
  for (const seed of [21, 22]) {
    test(`seed ${seed}: materialize, then a stream in random batches with late events`, async () => {
      const all = randomEvents(seed, 500);
      // User 9 appears only in the stream.
      const middle = T0 + 8 * DAY;
      const batch = all.filter((e) => e.ts < middle);
      const streamed = stream(seed, [...all, ...[0, 1, 2].map((i) => ({ key: 9, ts: middle + (i + 1) * 3_600_000, seq: 0, amount: 5 + i, category: "c" }))], middle);
      const repo = pushRepo(batch);
      await repo.larder.apply();
      await repo.larder.materialize({ end: middle });

      const rnd = new Random(seed * 7);
      const known = [...batch];
      const mismatches: string[] = [];
      let maxTs = middle;
      for (let i = 0; i < streamed.length; ) {
        const size = rnd.int(1, 30);
        const part = streamed.slice(i, i + size);
        i += size;
        const r = await repo.larder.push({ source: "events_push", rows: part.map(row), to: rnd.chance(0.5) ? "online_and_offline" : "online" });
        expect(r.duplicates).toBe(0);
        known.push(...part);
        maxTs = Math.max(maxTs, ...part.map((e) => e.ts));
        // Any instant after everything pushed so far: right after, minutes or days later.
        mismatches.push(...(await onlineMismatches(repo, maxTs + 1 + rnd.pick([0, 1, 60_000, 3_599_999, DAY, 3 * DAY + 7]), known)));
      }
      // Idle decay: long after the stream, windows are empty and latest values expired.
      mismatches.push(...(await onlineMismatches(repo, maxTs + 9 * DAY, known)));
      expect(mismatches.slice(0, 10)).toEqual([]);
      const registry = repo.larder.registry();
      const late = await getOnlineFeatures(registry, repo.larder.store(), { refs: registry.service("all").features, entities: { user_id: [1] }, at: maxTs + 9 * DAY }, 10);
      expect([late.results[0]!.values.count_1d, late.results[0]!.statuses.doubled]).toEqual([0, "expired"]);
    }, 60_000);
  }

  test("push, then look up at the event's own instant: it is left out, as batch leaves it out (ts < t), at every instant", async () => {
    const all = randomEvents(23, 400);
    const middle = T0 + 8 * DAY;
    const batch = all.filter((e) => e.ts < middle);
    const streamed = stream(23, all, middle);
    const repo = pushRepo(batch);
    await repo.larder.apply();
    await repo.larder.materialize({ end: middle });
    const known = [...batch];
    const mismatches: string[] = [];
    let exact = 0;
    let refused = 0;
    for (const e of streamed) {
      await repo.larder.push({ source: "events_push", rows: [row(e)], to: "online" });
      known.push(e);
      // Its own instant; the hop boundary before it (where the 1-hour window's head is a whole tile); just after it.
      for (const t of [e.ts, Math.floor(e.ts / 60_000) * 60_000, e.ts + 1]) {
        if (t < middle) continue;
        try {
          mismatches.push(...(await checkOnline(repo.larder, t, known, [e.key])));
          exact++;
        } catch (err) {
          // A late event, older than events already folded for its entity: that instant is
          // refused by name, and the first instant answered is exact.
          expect(err).toBeInstanceOf(LookupTooEarlyError);
          expect((err as LookupTooEarlyError).code).toBe("at_before_served_events");
          expect((err as Error).message).toContain(`online record of user_id=${e.key} in "user_stats"`);
          mismatches.push(...(await checkOnline(repo.larder, (err as LookupTooEarlyError).earliest, known, [e.key])));
          refused++;
        }
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(exact).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(0);
  }, 60_000);

  test("pushed segments reach batch: historical and a new full run match the reference; an incremental run adds nothing twice", async () => {
    const all = randomEvents(23, 400);
    const middle = T0 + 10 * DAY;
    const batch = all.filter((e) => e.ts < middle);
    const streamed = stream(23, all, middle);
    const repo = pushRepo(batch);
    await repo.larder.apply();
    await repo.larder.materialize({ end: middle });
    for (let i = 0; i < streamed.length; i += 25) await repo.larder.push({ source: "events_push", rows: streamed.slice(i, i + 25).map(row), to: "online_and_offline" });
    const known = [...batch, ...streamed];
    const end = Math.max(...known.map((e) => e.ts)) + 1;
    expect(readdirSync(join(repo.dir, "data/pushed/events_push")).filter((f) => f.endsWith(".parquet"))).toHaveLength(Math.ceil(streamed.length / 25));

    // Historical: labels at random instants over the whole range see pushed rows too.
    const rnd = new Random(5);
    const labels = Array.from({ length: 200 }, () => ({ user_id: rnd.int(1, 8), t: T0 + rnd.int(0, 22 * DAY) }));
    repo.write(
      "labels.csv",
      toCsv(
        ["user_id", "event_timestamp"],
        labels.map((l) => ({ user_id: l.user_id, event_timestamp: new Date(l.t).toISOString() })),
      ),
    );
    const set146 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
    const rows = set146.records!;
    const wrong: string[] = [];
    rows.forEach((r, i) => {
      const want = referenceValues(known, labels[i]!.user_id, labels[i]!.t, TTL, REF_FEATURES);
      for (const f of REF_FEATURES) if (!close(r[f.name], want[f.name])) wrong.push(`row ${i} ${f.name}: ${r[f.name]} vs ${want[f.name]}`);
    });
    expect(wrong.slice(0, 10)).toEqual([]);

    // Incremental from the watermark: the pushed rows are already online and are not added again.
    const [inc] = await repo.larder.materialize({ incremental: true, end });
    expect(inc!.mode).toBe("incremental");
    expect(await onlineMismatches(repo, end + 3_600_000, known)).toEqual([]);
    // A full run rebuilds from files and segments alike.
    const [full] = await repo.larder.materialize({ end });
    expect(full!.events).toBe(known.length);
    expect(await onlineMismatches(repo, end + 3_600_000, known)).toEqual([]);
  }, 60_000);

  test("a redelivered event id counts once online and once offline", async () => {
    const events = randomEvents(24, 60);
    const repo = pushRepo(events.slice(0, 10));
    await repo.larder.apply();
    const end = Math.max(...events.map((e) => e.ts)) + 1;
    await repo.larder.materialize({ end: Math.max(...events.slice(0, 10).map((e) => e.ts)) + 1 });
    const rest = events.slice(10);
    const first = await repo.larder.push({ source: "events_push", rows: rest.slice(0, 30).map(row), to: "online_and_offline" });
    expect(first.duplicates).toBe(0);
    // The same 30 again (a redelivery), plus 20 new ones with one repeated inside the batch.
    const again = await repo.larder.push({ source: "events_push", rows: [...rest.slice(0, 30), ...rest.slice(30), rest[35]!].map(row), to: "online_and_offline" });
    expect(again.duplicates).toBe(31);
    const known = events;
    expect(await onlineMismatches(repo, end, known)).toEqual([]);
    const [full] = await repo.larder.materialize({ end });
    expect(full!.events).toBe(known.length);
    expect(await onlineMismatches(repo, end, known)).toEqual([]);
  }, 30_000);

  test("pushes sent at once are coalesced, applied in order, and answered one by one", async () => {
    const all = randomEvents(29, 400);
    const middle = T0 + 8 * DAY;
    const repo = pushRepo(all.filter((e) => e.ts < middle));
    await repo.larder.apply();
    await repo.larder.materialize({ end: middle });
    const streamed = stream(29, all, middle);
    const parts: RefEvent[][] = [];
    for (let i = 0; i < streamed.length; i += 7) parts.push(streamed.slice(i, i + 7));
    // All in flight together, one of them bad and one repeating an earlier push's ids.
    const results = await Promise.allSettled([
      ...parts.map((p, i) => repo.larder.push({ source: "events_push", rows: p.map(row), to: i % 3 ? "online" : "online_and_offline" })),
      repo.larder.push({ source: "events_push", rows: [{ ...row(streamed[0]!), amount: "x" }], to: "online" }),
      repo.larder.push({ source: "events_push", rows: parts[1]!.map(row), to: "online" }),
    ]);
    expect(results.slice(0, parts.length).map((r) => (r.status === "fulfilled" ? [r.value.rows, r.value.duplicates] : r.reason))).toEqual(parts.map((p) => [p.length, 0]));
    expect(results[parts.length]!.status).toBe("rejected");
    const again = results[parts.length + 1]!;
    expect(again.status === "fulfilled" && [again.value.rows, again.value.duplicates, again.value.views[0]!.entities]).toEqual([7, 7, 0]);
    const known = [...all.filter((e) => e.ts < middle), ...streamed];
    expect(await onlineMismatches(repo, Math.max(...known.map((e) => e.ts)) + 1, known)).toEqual([]);
  }, 30_000);

  test("a view never materialized is served from pushes alone", async () => {
    const repo = pushRepo([]);
    await repo.larder.apply();
    const events = randomEvents(25, 40).map((e) => ({ ...e, ts: T0 + e.seq * 60_000 }));
    await repo.larder.push({ source: "events_push", rows: events.map(row), to: "online" });
    expect(await onlineMismatches(repo, T0 + DAY, events)).toEqual([]);
    expect(existsSync(join(repo.dir, "data/pushed"))).toBe(false);
  });
});

describe("push: values of every type", () => {
  test("timestamps, big integers and strings computed from a push equal the batch path's", async () => {
    const repo = tempRepo({
      "features/a.ts": `import { entity, fileSource, pushSource, featureView, featureService, sql } from "larder";
import { z } from "zod";
import { pick } from "./helpers/pick.ts";
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const ev = fileSource({ name: "ev", path: "data/ev.csv", timestampField: "ts", schema: z.object({ user_id: z.int(), ts: z.date(), big: z.int(), label: z.string() }) });
export const p = pushSource({ name: "p", batchSource: ev });
export const v = featureView({ name: "v", entity: user, source: p, features: { when: sql("ts"), day: sql("date_trunc('day', ts)"), big: sql("big * 1000000000"), word: sql("upper(label)"), flag: sql("big > 3") } });
export const s = featureService({ name: "s", features: [v] });`,
      "data/ev.csv": "user_id,ts,big,label\n1,2026-01-01T10:00:00Z,5,ünï\n",
    });
    repos.push(repo);
    await repo.larder.apply();
    await repo.larder.materialize({ end: Date.UTC(2026, 0, 2) });
    await repo.larder.push({ source: "p", rows: [{ user_id: 2, ts: "2026-01-01T10:00:00Z", big: 5, label: "ünï" }], to: "online" });
    const registry = repo.larder.registry();
    const got = await getOnlineFeatures(registry, repo.larder.store(), { refs: registry.service("s").features, entities: { user_id: [1, 2] }, at: Date.UTC(2026, 0, 3) }, 10);
    const want = { when: "2026-01-01T10:00:00.000Z", day: "2026-01-01T00:00:00.000Z", big: 5_000_000_000, word: "ÜNÏ", flag: true };
    expect(got.results.map((r) => r.values)).toEqual([want, want]);
  });
});

describe("push over HTTP", () => {
  test("POST /v1/push and Feast's POST /push write; bad rows change nothing and name the row and field", async () => {
    const repo = pushRepo(randomEvents(26, 20));
    await repo.larder.apply();
    await repo.larder.materialize({ end: T0 + 21 * DAY });
    const server = startServer(repo.larder, () => {});
    const base = `http://${server.hostname}:${server.port}`;
    const post = (path: string, body: unknown) =>
      fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const lookup = async () =>
      (await (await post("/v1/features/online", { service: "all", entities: { user_id: [7] }, at: T0 + 22 * DAY })).json()) as { results: { values: Record<string, unknown> }[] };
    try {
      const at = new Date(T0 + 21 * DAY + 5_000).toISOString();
      const ok = await post("/v1/push", { source: "events_push", rows: [{ user_id: 7, ts: at, amount: 10, category: "a", event_id: "h1" }] });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ source: "events_push", rows: 1, to: "online", duplicates: 0, views: [{ view: "user_stats", version: expect.any(String), entities: 1 }] });
      const feast = await post("/push", {
        push_source_name: "events_push",
        df: { user_id: [7], ts: ["2026-01-22 00:00:06.000000"], amount: [30], category: ["b"], event_id: ["h2"] },
        to: "online_and_offline",
      });
      expect([feast.status, await feast.text()]).toEqual([200, ""]);
      // As Feast's server reads df with pandas: no rows is nothing to do; a scalar fills its
      // column; columns the push source lacks are left out.
      const empty = await post("/push", { push_source_name: "events_push", df: {} });
      expect([empty.status, await empty.text()]).toEqual([200, ""]);
      const emptyLists = await post("/push", { push_source_name: "events_push", df: { user_id: [], ts: [] } });
      expect([emptyLists.status, await emptyLists.text()]).toEqual([200, ""]);
      const broadcast = await post("/push", {
        push_source_name: "events_push",
        df: { user_id: 7, ts: ["2026-01-22 00:00:07", "2026-01-22 00:00:08"], amount: 1, category: "c", event_id: ["h5", "h6"], extra_column: ["x", "y"] },
      });
      expect([broadcast.status, await broadcast.text()]).toEqual([200, ""]);
      const scalarsOnly = await post("/push", { push_source_name: "events_push", df: { user_id: 7, amount: 1 } });
      expect([scalarsOnly.status, ((await scalarsOnly.json()) as { detail: string }).detail]).toEqual([
        422,
        "df: every column is a single value; give at least one column as a list of values, one per row",
      ]);
      const before = await lookup();
      expect(before.results[0]!.values.count_1d).toBe(4);
      expect(before.results[0]!.values.doubled).toBe(2); // the broadcast rows came last: amount 1

      const cases: [string, unknown, number, string | RegExp][] = [
        [
          "bad field value",
          {
            source: "events_push",
            rows: [
              { user_id: 7, ts: at, amount: 1, category: "a", event_id: "h3" },
              { user_id: 7, ts: at, amount: "NaN", category: "a", event_id: "h4" },
            ],
          },
          400,
          'row 1, field "amount": expected a number, got the string "NaN"',
        ],
        [
          "unknown field",
          { source: "events_push", rows: [{ user_id: 7, ts: at, amount: 1, category: "a", event_id: "h5", "<script>": 1 }] },
          400,
          'row 0: unknown field "<script>"',
        ],
        ["missing timestamp", { source: "events_push", rows: [{ user_id: 7, amount: 1, category: "a", event_id: "h6" }] }, 400, 'row 0, field "ts": is missing'],
        ["row not an object", { source: "events_push", rows: [[7, at]] }, 400, "row 0: must be an object"],
        ["unknown push source", { source: "nope'; DROP TABLE x; --", rows: [{}] }, 404, 'push source "nope\'; DROP TABLE x; --" not found'],
        ["a file source is not a push source", { source: "events", rows: [{}] }, 404, '"events" is a file source'],
        ["bad to", { source: "events_push", rows: [], to: "everywhere" }, 400, /Invalid option[\s\S]*at to/],
        ["no rows", { source: "events_push", rows: [] }, 400, "no rows given"],
        ["malformed JSON", "{", 400, "malformed JSON"],
      ];
      for (const [name, body, status, message] of cases) {
        const res = await post("/v1/push", body);
        const got = (await res.json()) as { code: string; message: string };
        expect({ name, status: res.status }).toEqual({ name, status });
        expect(got.message).toMatch(message);
      }
      const feastBad = await post("/push", { push_source_name: "missing", df: { user_id: [1] } });
      expect(feastBad.status).toBe(422);
      // As Feast's server: its exception class, module and message, as a JSON string.
      expect(JSON.parse((await feastBad.json()) as string)).toEqual({ module: "feast.errors", class: "PushSourceNotFoundException", message: 'push source "missing" not found' });
      const feastUneven = await post("/push", { push_source_name: "events_push", df: { user_id: [1, 2], ts: [at] } });
      expect([feastUneven.status, ((await feastUneven.json()) as { detail: string }).detail]).toEqual([
        422,
        'df: every column needs the same number of values ("user_id" has 2, "ts" has 1)',
      ]);
      // Nothing of the refused pushes was applied, online or offline.
      expect(await lookup()).toEqual(before);
      expect(readdirSync(join(repo.dir, "data/pushed/events_push")).filter((f) => f.endsWith(".parquet"))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  }, 30_000);
});

describe("larder push (CLI)", () => {
  test("pushes a CSV file's rows", async () => {
    const repo = pushRepo(randomEvents(27, 10));
    const more = randomEvents(28, 30).map((e) => ({ ...e, seq: e.seq + 1000 }));
    repo.write("more.csv", csv(more));
    const run = (args: string[]) => {
      const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "../src/main.ts"), ...args, "--repo", repo.dir], { stdout: "pipe", stderr: "pipe" });
      return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
    };
    expect(run(["apply"]).code).toBe(0);
    const r = run(["push", "events_push", join(repo.dir, "more.csv"), "--to", "online_and_offline"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`${more.length} rows pushed to events_push (online_and_offline)`);
    expect(run(["push", "events_push", join(repo.dir, "more.csv"), "--to", "sideways"]).stderr).toContain("--to must be one of online, offline, online_and_offline");
    expect(run(["push", "events", join(repo.dir, "more.csv")]).stderr).toContain('"events" is a file source');
  }, 30_000);
});
