/**
 * Feast's Python SDK as Larder's client: a Feast repo with `online_store: type: remote`
 * pointing at a real `larder serve`, and `FeatureStore.get_online_features(...).to_dict()`
 * (features of a service, a feature list with full names, a missing entity) giving the
 * values Larder's own lookup gives. Feast 0.67 from PyPI, in .venvs/feast (made by .ci/run).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../src/server/start-server.ts";
import { FEAST_PYTHON, SKIP } from "./helpers/needs.ts";
import { FEATURES_TS, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";
import { pythonJson } from "./helpers/run-python.ts";

// Events up to an hour ago, so windows, latest values and ttl all have something to say now.
const events = randomEvents(41, 600);
const shift = Date.now() - 3_600_000 - Math.max(...events.map((e) => e.ts));
const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events.map((e) => ({ ...e, ts: e.ts + shift }))) }, { port: "0" });
const feastRepo = mkdtempSync(join(tmpdir(), "larder-feast-repo-"));
afterAll(async () => {
  await r.cleanup();
  rmSync(feastRepo, { recursive: true, force: true });
});

type FeastDict = Record<string, unknown[]>;

test.skipIf(SKIP.feast)(
  "FeatureStore.get_online_features through Feast's remote online store equals Larder's own lookup",
  async () => {
    if (!FEAST_PYTHON) throw new Error("Feast is not installed: CI must make .venvs/feast (python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast)");
    await r.larder.apply();
    await r.larder.materialize();
    const server = startServer(r.larder, () => {});
    const url = `http://${server.hostname}:${server.port}`;
    try {
      const feast = await pythonJson<{ service: FeastDict; list_full_names: FeastDict }>(FEAST_PYTHON, "feast_remote_lookup.py", [feastRepo, url], "Feast's client");

      const ids = [1, 2, 3, 424242];
      const larder = (await (
        await fetch(`${url}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ service: "all", entities: { user_id: ids } }),
        })
      ).json()) as { features: string[]; results: { values: Record<string, unknown>; statuses: Record<string, string> }[] };
      // Feast gives None for what is not present (missing, expired), as its remote store reads statuses.
      const expected = (name: string) => larder.results.map((x) => (x.statuses[name] === "present" ? x.values[name] : null));

      expect(feast.service.user_id).toEqual(ids);
      for (const name of larder.features) {
        const got = feast.service[name]!;
        const want = expected(name);
        expect({ name, got: got.map((v) => (typeof v === "number" ? Number(v.toPrecision(12)) : v)) }).toEqual({
          name,
          got: want.map((v) => (typeof v === "number" ? Number(v.toPrecision(12)) : v)),
        });
      }
      // The scenario has values of every kind: present, windows of 0, and a missing user.
      expect(feast.service.life_count!.slice(0, 3).every((v) => typeof v === "number" && v > 0)).toBe(true);
      expect(feast.service.life_count![3]).toBeNull();
      expect(feast.service.mean_7d!.some((v) => typeof v === "number" && !Number.isInteger(v))).toBe(true);
      expect(feast.service.category!.some((v) => typeof v === "string")).toBe(true);

      expect(Object.keys(feast.list_full_names).sort()).toEqual(["user_id", "user_stats__category", "user_stats__life_count", "user_stats__mean_7d"]);
      expect(feast.list_full_names.user_stats__life_count).toEqual(feast.service.life_count!);
      expect(feast.list_full_names.user_stats__category).toEqual(feast.service.category!);
    } finally {
      await server.stop();
    }
  },
  120_000,
);
