/**
 * POST /v1/features/historical: a label table as Parquet in, the point-in-time training set
 * as Parquet out, equal to the reference; bad bodies and names refused with 4xx, leaving
 * nothing behind in the cache.
 */
import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../src/server/app.ts";
import { Duck, literal } from "../src/offline/duckdb.ts";
import { FEATURES_TS, REF_FEATURES, TTL, eventsCsv, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { trainingSetMismatches } from "./helpers/reference.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const events = randomEvents(91, 400);
const labels = randomLabels(91, events);
const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(events), "labels.csv": labelsCsv(labels) }, { maxUploadBytes: "200000" });
afterAll(() => r.cleanup());

test("a label table as Parquet in, the training set as Parquet out, equal to the reference", async () => {
  await r.larder.apply();
  const duck = await Duck.open();
  const labelsParquet = join(r.dir, "labels.parquet");
  await duck.run(`COPY (SELECT * FROM read_csv(${literal(join(r.dir, "labels.csv"))})) TO ${literal(labelsParquet)} (FORMAT parquet)`);
  const app = createApp(r.larder, () => {});
  const post = (query: string, body: string | Uint8Array) =>
    app.request(`/v1/features/historical?${query}`, { method: "POST", headers: { "content-type": "application/vnd.apache.parquet" }, body });

  const res = await post("service=all", readFileSync(labelsParquet));
  if (res.status !== 200) throw new Error(await res.text());
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/vnd.apache.parquet");
  expect(res.headers.get("x-larder-rows")).toBe(String(labels.length));
  const out = join(r.dir, "answer.parquet");
  await Bun.write(out, await res.arrayBuffer());
  const rows = await duck.all<Record<string, unknown>>(`SELECT * FROM read_parquet(${literal(out)})`);
  duck.close();
  expect(rows.length).toBe(labels.length);
  expect(trainingSetMismatches(rows, labels, events, TTL, REF_FEATURES).slice(0, 10)).toEqual([]);
  expect((await r.larder.runs.get(res.headers.get("x-larder-run-id")!))?.kind).toBe("historical");

  const refused = async (query: string, body: string | Uint8Array) => {
    const x = await post(query, body);
    return [x.status, ((await x.json()) as { message: string }).message];
  };
  expect(await refused("service=all", "not parquet at all")).toEqual([
    400,
    "the body is not a Parquet file (send the entity table as Parquet, content-type application/vnd.apache.parquet)",
  ]);
  // PAR1 at both ends, garbage between.
  expect((await refused("service=all", "PAR1 garbage garbage PAR1"))[0]).toBe(400);
  expect(await refused("timestamp_column=event_timestamp", readFileSync(labelsParquet))).toEqual([400, "give ?service=NAME or ?features=view:feature,… (one of them)"]);
  expect((await refused("service=nope", readFileSync(labelsParquet)))[0]).toBe(404);
  expect(await refused("service=all", new Uint8Array(300_000))).toEqual([413, "the entity table is over 200000 bytes (LARDER_MAX_UPLOAD_BYTES)"]);
  // A timestamp column the table lacks: the training set says so.
  expect((await refused("service=all&timestamp_column=nope", readFileSync(labelsParquet)))[0]).toBe(400);
  // Nothing left behind.
  expect(readdirSync(join(r.larder.config.dataDir, "cache", "http-historical"))).toEqual([]);
});
