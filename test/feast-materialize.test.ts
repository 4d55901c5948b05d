/**
 * Feast's materialization routes on Larder: POST /materialize and /materialize-incremental
 * with Feast's bodies run Larder's materialization (200 null, or 202 then the run with
 * ?async=true, 409 while one is going), and GET /health answers 503 when the registry
 * cannot be read.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../src/server/app.ts";
import { FEATURES_TS, T0, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
const END = T0 + 21 * DAY;
const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(randomEvents(31, 500)) });
afterAll(() => r.cleanup());

test("Feast's /materialize and /materialize-incremental run Larder's materialization", async () => {
  await r.larder.apply();
  const app = createApp(r.larder, () => {});
  const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const lookup = async () =>
    ((await (await post("/v1/features/online", { service: "all", entities: { user_id: [1, 2, 3, 4, 5] }, at: END + 2 * DAY })).json()) as { results: unknown[] }).results;
  const watermark = async () => (await r.larder.store().pointers()).get("user_stats")?.watermark;

  // Feast sends times without a zone: UTC, as Feast reads them.
  const full = await post("/materialize", { start_ts: "2025-12-01T00:00:00", end_ts: new Date(END).toISOString().replace("Z", ""), feature_views: ["user_stats"] });
  expect([full.status, await full.json()]).toEqual([200, null]);
  expect(await watermark()).toBe(END);
  const [run] = await r.larder.runs.list({ kind: "materialize", limit: 1 });
  expect(run).toMatchObject({ status: "succeeded", startedBy: { via: "feast http" }, range: { start: Date.UTC(2025, 11, 1), end: END }, details: { mode: "full" } });
  const viaFeast = await lookup();
  await r.larder.materialize({ start: Date.UTC(2025, 11, 1), end: END });
  expect(await lookup()).toEqual(viaFeast);

  const incremental = await post("/materialize-incremental", { end_ts: new Date(END + DAY).toISOString() });
  expect([incremental.status, await incremental.json()]).toEqual([200, null]);
  expect(await watermark()).toBe(END + DAY);
  expect((await r.larder.runs.list({ kind: "materialize", limit: 1 }))[0]).toMatchObject({ details: { mode: "incremental" } });

  // Async: 202 at once, 409 for a second while the first runs, then the run is there.
  const before = (await r.larder.runs.list({ kind: "materialize" })).length;
  const accepted = await post("/materialize?async=true", { disable_event_timestamp: true });
  expect([accepted.status, await accepted.json()]).toEqual([202, { status: "accepted", feature_views: ["user_stats"] }]);
  const second = await post("/materialize-incremental?async=true", { end_ts: new Date().toISOString() });
  expect(second.status).toBe(409);
  expect(((await second.json()) as { error: string }).error).toContain('already being materialized: ["user_stats"]');
  for (let i = 0; i < 100 && (await r.larder.runs.list({ kind: "materialize" })).length === before; i++) await Bun.sleep(50);
  expect((await r.larder.runs.list({ kind: "materialize", limit: 1 }))[0]).toMatchObject({ status: "succeeded", startedBy: { via: "feast http async" } });

  // Refusals as Feast's server makes them.
  const noEnd = await post("/materialize", { start_ts: "2026-01-01T00:00:00" });
  expect([noEnd.status, await noEnd.json()]).toEqual([422, { detail: "start_ts and end_ts are required when disable_event_timestamp is false" }]);
  const backwards = await post("/materialize", { start_ts: "2026-02-01T00:00:00", end_ts: "2026-01-01T00:00:00" });
  expect([backwards.status, await backwards.json()]).toEqual([422, { detail: "start_ts (2026-02-01T00:00:00) must be before end_ts (2026-01-01T00:00:00)" }]);
  const unknown = await post("/materialize-incremental", { end_ts: "2026-01-01T00:00:00", feature_views: ["nope"] });
  expect(unknown.status).toBe(404);
  expect(JSON.parse((await unknown.json()) as string)).toEqual({ module: "feast.errors", class: "FeatureViewNotFoundException", message: 'feature view "nope" not found' });

  // /health: 200 while the registry reads, 503 when it cannot.
  expect((await app.request("/health")).status).toBe(200);
  writeFileSync(join(r.dir, "data", "registry.json"), "{ damaged");
  await Bun.sleep(300); // the registry file is looked at again at most every 250 ms
  const health = await app.request("/health");
  expect(health.status).toBe(503);
  expect(((await health.json()) as { message: string }).message).toStartWith("the registry cannot be read: registry data/registry.json is damaged");
});
