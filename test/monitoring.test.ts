/**
 * Monitoring: /metrics in Prometheus' text format with request, lookup, push and run
 * series and freshness gauges; GET /v1/freshness with watermark, newest event, last runs
 * and schedule lag.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { startServer } from "../src/server/start-server.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});
const DAY = 86_400_000;
const events = randomEvents(103, 150);
const END = T0 + 21 * DAY;

/** The value of one series, by its exact name and labels as rendered. */
const series = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe("monitoring", () => {
  test("/metrics counts requests, lookups, values by status, pushes and runs, and reads freshness when scraped", async () => {
    const r = tempRepo(
      { "features/stats.ts": PUSH_FEATURES_TS.replace('  ttl: "3d",', '  ttl: "3d",\n  schedule: "0 * * * *",'), "data/events.csv": pushCsv(events) },
      { port: "0", schedules: "off" },
    );
    repos.push(r);
    await r.larder.apply();
    const server = startServer(r.larder, () => {});
    const base = `http://${server.hostname}:${server.port}`;
    const post = (path: string, body: unknown) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    try {
      // Nothing materialized yet: freshness says so, and the hourly schedule is overdue.
      const before = (await (await fetch(`${base}/v1/freshness`)).json()) as { views: { view: string; served: unknown; lastRun: unknown; schedule: { lagSeconds: number } }[] };
      expect(before.views).toEqual([expect.objectContaining({ view: "user_stats", served: null, lastRun: null, newestEvent: null })]);
      expect(before.views[0]!.schedule.lagSeconds).toBeGreaterThan(0);

      expect((await post("/v1/materialize", { views: ["user_stats"], full: true })).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await post("/v1/features/online", { service: "all", entities: { user_id: [1, 2, 424242] } })).status).toBe(200);
      expect((await post("/v1/push", { source: "events_push", rows: [pushRow({ key: 9, ts: Date.now() - 1000, seq: 1, amount: 1, category: "a" })] })).status).toBe(200);
      expect((await post("/v1/push", { source: "events_push", rows: [{ user_id: "x" }] })).status).toBe(400);
      // Pushes naming no push source: 404s counted under one series, and no run each.
      for (const name of ["nope", "events", 'x"}{evil']) expect((await post("/v1/push", { source: name, rows: [{}, {}] })).status).toBe(404);

      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      // Every line is a comment or `name{labels} value`.
      for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[^}]*\})? -?[\d.e+-]+)$/);
      expect(series(text, "larder_lookups_total")).toBe(3);
      expect(series(text, "larder_lookup_entities_total")).toBe(9);
      // 14 features × 3 entities × 3 lookups: user 424242 is missing, the others present or expired.
      const present = series(text, 'larder_feature_values_total{status="present"}') ?? 0;
      const expired = series(text, 'larder_feature_values_total{status="expired"}') ?? 0;
      expect(series(text, 'larder_feature_values_total{status="missing"}')).toBe(14 * 3);
      expect(present + expired).toBe(14 * 2 * 3);
      expect(series(text, 'larder_push_events_total{source="events_push",outcome="applied"}')).toBe(1);
      expect(series(text, 'larder_push_events_total{source="events_push",outcome="refused"}')).toBe(1);
      expect(series(text, 'larder_push_events_total{source="(unknown)",outcome="refused"}')).toBe(6);
      expect(text.match(/^larder_push_events_total\{/gm)).toHaveLength(3);
      expect(series(text, 'larder_http_requests_total{route="/v1/features/online",method="POST",status="200"}')).toBe(3);
      expect(series(text, 'larder_http_requests_total{route="/v1/push",method="POST",status="400"}')).toBe(1);
      expect(series(text, 'larder_http_request_duration_seconds_count{route="/v1/features/online"}')).toBe(3);
      expect(series(text, 'larder_http_request_duration_seconds_bucket{route="/v1/features/online",le="+Inf"}')).toBe(3);
      expect(series(text, 'larder_runs_total{kind="materialize",status="succeeded"}')).toBe(1);
      expect(series(text, 'larder_run_duration_seconds_count{kind="materialize"}')).toBe(1);
      // The push moved the newest event to about now; the hourly schedule's run is no longer overdue.
      expect(series(text, 'larder_view_event_age_seconds{view="user_stats"}')).toBeLessThan(60);
      expect(series(text, 'larder_view_schedule_lag_seconds{view="user_stats"}')).toBe(0);

      const after = (await (await fetch(`${base}/v1/freshness`)).json()) as { views: Record<string, unknown>[] };
      const f = after.views[0]!;
      expect(f).toMatchObject({ view: "user_stats", served: { version: f.version }, lastRun: { status: "succeeded" }, lastSuccess: expect.any(Object) });
      expect(Date.now() - Date.parse(f.newestEvent as string)).toBeLessThan(60_000);
    } finally {
      await server.stop();
    }
  });

  test("freshness reports the newest event a materialization served", async () => {
    const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events) });
    repos.push(r);
    await r.larder.apply();
    await r.larder.materialize({ end: END });
    const [f] = await r.larder.freshness();
    const newest = Math.max(...events.filter((e) => e.ts < END).map((e) => e.ts));
    expect(f).toMatchObject({ view: "user_stats", newestEvent: new Date(newest).toISOString(), served: { watermark: new Date(END).toISOString() }, schedule: null });
  });

  test("drift: a shifted distribution is flagged against the first materialization or a training set; served values count once there are enough", async () => {
    const many = randomEvents(107, 2000);
    const r = tempRepo(
      { "features/stats.ts": PUSH_FEATURES_TS.replace('  ttl: "3d",', '  ttl: "3d",\n  drift: { psi: 0.3 },'), "data/events.csv": pushCsv(many), "labels.csv": "" },
      { port: "0" },
    );
    repos.push(r);
    await r.larder.apply();
    await r.larder.materialize({ end: END });
    // The same data again: no drift.
    await r.larder.materialize({ end: END });
    const same = await r.larder.drift();
    const doubled = (rows: typeof same) => rows.find((d) => d.feature === "doubled")!;
    expect(doubled(same)).toMatchObject({
      view: "user_stats",
      kind: "numeric",
      psi: 0,
      ks: 0,
      drifting: false,
      thresholds: { psi: 0.3, ks: 0.2 },
      current: { source: "materialization" },
    });
    expect(doubled(same).reference.source).toMatch(/^first materialization of @\w+ \(run \d{8}T\d+Z-[0-9a-f]+\)$/);

    // Every amount ten times larger: the amount features drift, the counts do not.
    r.write("data/events.csv", pushCsv(many.map((e) => ({ ...e, amount: e.amount === null ? null : e.amount * 10 }))));
    await r.larder.materialize({ end: END });
    const shifted = await r.larder.drift();
    expect(doubled(shifted).drifting).toBe(true);
    expect(doubled(shifted).ks!).toBeGreaterThan(0.5);
    expect(shifted.find((d) => d.feature === "life_count")).toMatchObject({ psi: 0, ks: 0, drifting: false });

    // Against a training set's profile (written with the set): same data, no drift.
    r.write("labels.csv", `user_id,event_timestamp\n${[1, 2, 3, 4, 5, 6].map((u) => `${u},${new Date(END).toISOString()}`).join("\n")}\n`);
    const training = await r.larder.historical({ labelsPath: `${r.dir}/labels.csv`, refs: r.larder.registry().service("all").features, outPath: `${r.dir}/train.parquet` });
    const vsTraining = await r.larder.drift({ reference: training.runId });
    expect(doubled(vsTraining).reference.source).toBe(`training set of run ${training.runId}`);
    await expect(r.larder.drift({ reference: "../../etc/passwd" })).rejects.toThrow("is not a run id");
    await expect(r.larder.drift({ reference: "20990101T000000000Z-abcdef" })).rejects.toThrow('no training-set profile for run "20990101T000000000Z-abcdef"');

    // Served values: after enough lookups, the served sample is what is compared.
    const server = startServer(r.larder, () => {});
    try {
      const base = `http://${server.hostname}:${server.port}`;
      const users = Array.from({ length: 6 }, (_, i) => i + 1);
      for (let i = 0; i < 400; i++)
        await fetch(`${base}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ features: ["user_stats:life_count"], entities: { user_id: users } }),
        });
      const body = (await (await fetch(`${base}/v1/drift?view=user_stats`)).json()) as {
        features: { feature: string; current: { source: string; at: string | null; values: number } }[];
      };
      expect(body.features.find((f) => f.feature === "life_count")!.current).toEqual({ source: "served", at: null, values: 300 });
      expect(body.features.find((f) => f.feature === "doubled")!.current.source).toBe("materialization");
      expect((await fetch(`${base}/v1/drift?reference=nope`)).status).toBe(400);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('larder_feature_drift_ks{view="user_stats",feature="doubled"}');
    } finally {
      await server.stop();
    }
  });
});
