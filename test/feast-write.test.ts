/**
 * Feast's Python SDK writing to Larder through its remote online store:
 * `FeatureStore.materialize` (Feast's remote store asks the server: POST /materialize) and
 * `FeatureStore.push` (each view's rows through POST /write-to-online-store), the push sent
 * twice, as a retry. Larder applies the written rows as events of the view: its online
 * values then equal the reference over the source's events and the pushed ones, the retried
 * ones counted once. Feast 0.67 from PyPI, in .venvs/feast (made by .ci/run).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/server/app.ts";
import { startServer } from "../src/server/start-server.ts";
import { FEAST_PYTHON, SKIP } from "./helpers/needs.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { FEATURES_TS, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import type { RefEvent } from "./helpers/reference.ts";
import { tempRepo } from "./helpers/temp-repo.ts";
import { pythonJson } from "./helpers/run-python.ts";

// The source's events, up to an hour ago.
const raw = randomEvents(77, 300);
const shift = Date.now() - 3_600_000 - Math.max(...raw.map((e) => e.ts));
const events = raw.map((e) => ({ ...e, ts: e.ts + shift }));
const users = [...new Set(events.map((e) => e.key))].sort((a, b) => a - b);
const start = Math.min(...events.map((e) => e.ts));
const end = Math.max(...events.map((e) => e.ts)) + 1;
// Pushed after: new events in the last hour, ids of their own.
const pushed: RefEvent[] = users.flatMap((key, i) =>
  [0, 1].map((k) => ({ key, ts: Date.now() - 50 * 60_000 + (i * 2 + k) * 60_000, seq: 10_000 + i * 2 + k, amount: 10 + i + k, category: "b" })),
);

const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events) }, { port: "0" });
const work = mkdtempSync(join(tmpdir(), "larder-feast-write-"));
afterAll(async () => {
  await r.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test.skipIf(SKIP.feast)(
  "FeatureStore.materialize and push through Feast's remote online store: Larder's values equal the reference over what was written",
  async () => {
    if (!FEAST_PYTHON) throw new Error("Feast is not installed: CI must make .venvs/feast (python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast)");
    await r.larder.apply();
    const server = startServer(r.larder, () => {});
    const url = `http://${server.hostname}:${server.port}`;
    try {
      writeFileSync(join(work, "pushed.json"), JSON.stringify(pushed.map(pushRow)));
      const args = [join(work, "repo"), url, join(work, "pushed.json"), String(start), String(end)];
      expect(await pythonJson(FEAST_PYTHON, "feast_remote_write.py", args, "Feast's client")).toEqual({ ok: true });

      expect(await onlineMismatches(r.larder, Date.now(), [...events, ...pushed], users)).toEqual([]);
      // Counted once: each user's lifetime count is its events and its two pushed rows, though the push was sent twice.
      const counts = await r.larder.lookup({ refs: [{ view: "user_stats", feature: "life_count" }], entities: { user_id: users } });
      expect(counts.results.map((x) => x.values.life_count)).toEqual(users.map((u) => events.filter((e) => e.key === u).length + 2));

      // A write to a view Feast does not know of in Larder: Feast's typed exception, 404.
      const missing = await fetch(`${url}/write-to-online-store`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ feature_view_name: "nope", df: { user_id: [1] } }),
      });
      expect(missing.status).toBe(404);
      expect(JSON.parse((await missing.json()) as string)).toMatchObject({ module: "feast.errors", class: "FeatureViewNotFoundException" });
    } finally {
      await server.stop();
    }
  },
  120_000,
);

test("/write-to-online-store refuses what it cannot apply, and changes nothing", async () => {
  const plain = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(randomEvents(5, 40)) });
  try {
    await plain.larder.apply();
    const app = createApp(plain.larder, () => {});
    const write = (body: unknown) =>
      app.request("/write-to-online-store", { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const detail = async (res: Response) => ((await res.json()) as { detail: string }).detail;
    const row = { user_id: [1], ts: ["2026-01-01T00:00:00Z"], amount: [1.5], category: ["a"] };

    const noPush = await write({ feature_view_name: "user_stats", df: row });
    expect(noPush.status).toBe(422);
    expect(await detail(noPush)).toBe(
      'feature view "user_stats" reads source "events", which no push source feeds: Larder computes online values from events, and writes are applied as events pushed to a push source over "events" (define one with pushSource({ batchSource: events })), or run larder materialize',
    );
    const malformed = await write('{"feature_view_name": "user_stats", "df": ');
    expect(malformed.status).toBe(422);
    const noName = await write({ df: row });
    expect(noName.status).toBe(422);
    expect(await detail(noName)).toContain("feature_view_name");
    expect(await plain.larder.store().pointers()).toEqual(new Map());
  } finally {
    await plain.cleanup();
  }
});
