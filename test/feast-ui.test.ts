/**
 * Feast's web UI on Larder's registry (`larder serve --feast-ui`): the registry REST routes
 * it loads (/api/v1/…, /projects-list.json) in Feast's shape, every object parsed by Feast's
 * own protobuf classes (Feast 0.67 in .venvs/feast), and the UI itself (@feast-dev/feast-ui
 * from npm, bundled by Larder) rendering Larder's views and services in headless Chromium,
 * behind Larder's sign-in when tokens are set.
 */
import { afterAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { chromium } from "playwright-core";
import { createApp } from "../src/server/app.ts";
import { startServer } from "../src/server/start-server.ts";
import { CHROMIUM, FEAST_PYTHON, SKIP } from "./helpers/needs.ts";
import { pushCsv, withScoredOnDemand } from "./helpers/push-scenario.ts";
import { randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";
import { pythonJson } from "./helpers/run-python.ts";

const TOKEN = "read-token-for-the-feast-ui-test";
const FEATURES = withScoredOnDemand(undefined, ', description: "what the fraud model reads"');
const r = tempRepo({ "features/stats.ts": FEATURES, "data/events.csv": pushCsv(randomEvents(3, 100)) }, { port: "0", feastUi: "on", schedules: "off" });
const project = basename(r.larder.config.repoDir);
afterAll(() => r.cleanup());

type Json = Record<string, any>;

test("Feast's registry routes answer Larder's registry in Feast's shape", async () => {
  await r.larder.apply();
  const app = createApp(r.larder, () => {});
  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as Json };
  };

  expect((await get("/projects-list.json")).body).toEqual({ projects: [{ name: project, description: "A Larder feature repo", id: project, registryPath: "/api/v1" }] });
  expect((await get("/feast/projects-list.json")).body.projects[0].id).toBe(project);

  const entities = (await get(`/api/v1/entities?project=${project}&include_relationships=true`)).body;
  expect(entities.entities.map((e: Json) => e.spec)).toEqual([{ name: "user", valueType: "INT64", joinKey: "user_id" }]);
  expect(entities.pagination).toEqual({ totalCount: 1, totalPages: 1 });
  expect(entities.relationships.user).toContainEqual({ source: { type: "entity", name: "user" }, target: { type: "featureService", name: "scoring" } });

  const views = (await get(`/api/v1/feature_views?project=${project}`)).body.featureViews as Json[];
  expect(views.map((v) => [v.type, v.spec.name])).toEqual([
    ["onDemandFeatureView", "scored"],
    ["featureView", "user_stats"],
  ]);
  const stats = views[1]!.spec;
  expect(stats.features.slice(0, 3)).toEqual([
    { name: "doubled", valueType: "DOUBLE" },
    { name: "category", valueType: "STRING" },
    { name: "count_1h", valueType: "INT64" },
  ]);
  expect([stats.ttl, stats.entities, stats.entityColumns, stats.batchSource.fileOptions, stats.streamSource.name]).toEqual([
    "259200s",
    ["user"],
    [{ name: "user_id", valueType: "INT64" }],
    { uri: "data/events.csv" },
    "events_push",
  ]);
  expect(views[0]!.spec.sources.scored_request.requestDataSource.requestDataOptions.schema).toEqual([{ name: "amount", valueType: "DOUBLE" }]);

  const service = (await get(`/api/v1/feature_services/scoring?project=${project}&include_relationships=true`)).body;
  expect(service.spec).toEqual({
    name: "scoring",
    description: "what the fraud model reads",
    features: [
      { featureViewName: "user_stats", featureColumns: [{ name: "mean_7d", valueType: "DOUBLE" }] },
      { featureViewName: "scored", featureColumns: [{ name: "ratio", valueType: "DOUBLE" }] },
    ],
  });
  expect(service.relationships).toContainEqual({ source: { type: "featureView", name: "scored" }, target: { type: "featureService", name: "scoring" } });

  // /all: every project's objects (here one), each naming its project, 50 a page.
  const all = (await get("/api/v1/data_sources/all?limit=2")).body;
  expect(all.dataSources.map((d: Json) => [d.type, d.name, d.project])).toEqual([
    ["BATCH_FILE", "events", project],
    ["PUSH_SOURCE", "events_push", project],
  ]);
  expect(all.pagination).toEqual({ page: 1, limit: 2, totalCount: 3, totalPages: 2, hasNext: true });
  const features = (await get(`/api/v1/features?project=${project}`)).body.features as Json[];
  expect(features.find((f) => f.name === "life_count")).toEqual({ name: "life_count", featureView: "user_stats", type: "Int64", kind: "feature" });

  // As Feast answers: another project lists nothing; a missing object is 404.
  expect((await get("/api/v1/feature_views?project=other")).body).toEqual({ featureViews: [], pagination: {} });
  expect(await get(`/api/v1/feature_views/nope?project=${project}`)).toEqual({
    status: 404,
    body: { status_code: 404, detail: `Feature view nope does not exist in project ${project}`, error_type: "FeastObjectNotFoundException" },
  });
  expect((await get("/api/v1/label_views/all")).body).toEqual({ featureViews: [], pagination: { page: 1, limit: 50, totalCount: 0, totalPages: 0, hasNext: false } });
});

test("without --feast-ui, none of it is served", async () => {
  const off = tempRepo({ "features/stats.ts": FEATURES, "data/events.csv": pushCsv(randomEvents(3, 10)) });
  try {
    const app = createApp(off.larder, () => {});
    for (const path of ["/api/v1/projects", "/projects-list.json", "/feast"]) expect((await app.request(path)).status).toBe(404);
  } finally {
    await off.cleanup();
  }
});

test.skipIf(SKIP.feast)(
  "every object parses into Feast's own protobuf classes",
  async () => {
    if (!FEAST_PYTHON) throw new Error("Feast is not installed: CI must make .venvs/feast (python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast)");
    await r.larder.apply();
    const server = startServer(r.larder, () => {});
    try {
      const parsed = await pythonJson(FEAST_PYTHON, "feast_registry_shapes.py", [`http://${server.hostname}:${server.port}`, project], "Feast's protobuf classes");
      expect(parsed).toEqual({
        projects: [project],
        entities: ["user"],
        dataSources: ["events", "events_push", "scored_request"],
        featureViews: ["user_stats"],
        onDemandFeatureViews: ["scored"],
        featureServices: ["all", "scoring"],
      });
    } finally {
      await server.stop();
    }
  },
  60_000,
);

test.skipIf(SKIP.chromium)(
  "Feast's web UI shows Larder's views and services in Chromium, behind Larder's sign-in",
  async () => {
    if (!CHROMIUM) throw new Error("chromium is not installed: CI must install it (apt-get install -y chromium)");
    const signed = tempRepo(
      { "features/stats.ts": FEATURES, "data/events.csv": pushCsv(randomEvents(3, 100)) },
      { port: "0", feastUi: "on", schedules: "off", tokens: `read=${TOKEN}` },
    );
    await signed.larder.apply();
    const name = basename(signed.larder.config.repoDir);
    const server = startServer(signed.larder, () => {});
    const base = `http://${server.hostname}:${server.port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("response", (res) => res.status() >= 400 && !res.url().endsWith("/favicon.ico") && errors.push(`${res.status()} ${res.url()}`));
      // Not signed in: Larder's sign-in page, then back to the Feast UI.
      await page.goto(`${base}/feast`);
      expect(new URL(page.url()).pathname).toBe("/ui/login");
      await page.fill("input[name=token]", TOKEN);
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/feast`);

      await page.goto(`${base}/feast/p/${name}`);
      await page.getByText(`Project: ${name}`).waitFor();
      // The side bar counts what the registry routes list.
      await page.getByText("Feature Views (2)").waitFor();
      expect(await page.textContent("nav")).toContain("Feature Services (2)");

      await page.goto(`${base}/feast/p/${name}/feature-view`);
      await page.getByRole("link", { name: "user_stats" }).first().waitFor();
      expect(await page.getByRole("link", { name: "scored" }).count()).toBeGreaterThan(0);

      await page.goto(`${base}/feast/p/${name}/feature-view/user_stats`);
      await page.getByText("mean_7d").first().waitFor();
      expect(await page.textContent("main")).toContain("life_count");

      await page.goto(`${base}/feast/p/${name}/feature-service/scoring`);
      await page.getByText("Feature Service: scoring").waitFor();
      // Its features, by view, once loaded.
      await page.getByRole("cell", { name: "ratio" }).first().waitFor();
      expect(await page.textContent("main")).toContain("mean_7d");

      await page.goto(`${base}/feast/p/${name}/entity/user`);
      await page.getByText("Entity: user").waitFor();
      await page.getByText("user_id").first().waitFor();
      expect(await page.textContent("main")).toContain("INT64");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
      await signed.cleanup();
    }
  },
  120_000,
);
