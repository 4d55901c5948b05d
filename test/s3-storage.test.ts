/**
 * S3: a source as a glob over prefixes, offline tables and pushed rows kept in a bucket,
 * label tables and training sets on S3, and the ETag cache, against a real
 * S3-compatible server (s3rver) on loopback.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { S3Client } from "bun";
import { freePort } from "./helpers/redis-server.ts";
import { trainingSetMismatches } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, TTL, eventsCsv, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { S3_CREDENTIALS, startS3, type S3Server } from "./helpers/s3-server.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { SKIP, SPARK_PYTHON } from "./helpers/needs.ts";

let s3: S3Server;
let bucket: S3Client;
const repos: TempRepo[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  s3 = await startS3(["lake"]);
  // Credentials come from the standard variables, as they would in production.
  Object.assign(process.env, S3_CREDENTIALS);
  bucket = new S3Client({ ...S3_CREDENTIALS, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", endpoint: s3.endpoint, bucket: "lake", virtualHostedStyle: false });
});
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await s3.stop();
  for (const k of Object.keys(S3_CREDENTIALS)) if (savedEnv[k] === undefined) delete process.env[k];
});

const events = randomEvents(53, 400);
const labels = randomLabels(53, events, 150);
const lines = eventsCsv(events).trimEnd().split("\n");
const n = events.length;
const csvPart = (from: number, to: number) => `${[lines[0], ...lines.slice(1).slice(from, to)].join("\n")}\n`;

/** A repo whose source is `path` and whose offline storage is s3://lake/<offline>. */
function s3Repo(features: string, path: string, offline: string, extra: Record<string, string> = {}): TempRepo {
  const repo = tempRepo(
    { "features/stats.ts": features.replace('path: "data/events.csv"', `path: ${JSON.stringify(path)}`), "labels.csv": labelsCsv(labels), ...extra },
    { offline: `s3://lake/${offline}`, s3Endpoint: s3.endpoint },
  );
  repos.push(repo);
  return repo;
}

const keys = async (prefix: string) => ((await bucket.list({ prefix })).contents ?? []).map((o) => o.key).sort();

test("a source globbing S3 prefixes, with its offline table in the bucket: the training set equals the reference", async () => {
  // Three parts under two prefixes, plus objects the glob must not take.
  await bucket.write("events/2026/a/part-0.csv", csvPart(0, 130));
  await bucket.write("events/2026/b/part-1.csv", csvPart(130, 290));
  await bucket.write("events/2027/part-2.csv", csvPart(290, n));
  await bucket.write("events/2027/notes.txt", "not events");
  await bucket.write("eventsX/part-9.csv", csvPart(0, 10));
  const repo = s3Repo(FEATURES_TS, "s3://lake/events/**/*.csv", "store1");
  await repo.larder.apply();
  const result = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
  const table = result.views[0]!.table;
  expect(table.fingerprint.files.map((f) => f.path)).toEqual(["s3://lake/events/2026/a/part-0.csv", "s3://lake/events/2026/b/part-1.csv", "s3://lake/events/2027/part-2.csv"]);
  expect(table.fingerprint.files.every((f) => /^[0-9a-f]{32}$/.test(f.etag!))).toBe(true);
  expect(table.rows).toBe(n);
  const got = result.records!;
  expect(trainingSetMismatches(got, labels, events, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
  // The offline table lives in the bucket: its manifest and one Parquet file.
  const version = result.views[0]!.version;
  expect(await keys(`store1/offline/user_stats/${version}/`)).toEqual([`store1/offline/user_stats/${version}/_table.json`, `store1/${table.key}`]);
  // And materialization reads it from there.
  const [m] = await repo.larder.materialize();
  expect(m!.events).toBe(n);
});

test.skipIf(SKIP.spark)(
  "the Spark engine reads the same S3 source (three parts, ties across them) and keeps its offline table in the bucket",
  async () => {
    await bucket.write("spark-events/a/part-0.csv", csvPart(0, 130));
    await bucket.write("spark-events/b/part-1.csv", csvPart(130, 290));
    await bucket.write("spark-events/c/part-2.csv", csvPart(290, n));
    const repo = tempRepo(
      { "features/stats.ts": FEATURES_TS.replace('path: "data/events.csv"', 'path: "s3://lake/spark-events/**/*.csv"'), "labels.csv": labelsCsv(labels) },
      { offline: "s3://lake/store-spark", s3Endpoint: s3.endpoint, engine: "spark", sparkMaster: "local[2]", sparkPython: SPARK_PYTHON! },
    );
    repos.push(repo);
    await repo.larder.apply();
    const result = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
    const table = result.views[0]!.table;
    expect(table.engine).toBe("spark");
    expect(table.rows).toBe(n);
    expect(trainingSetMismatches(result.records!, labels, events, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
    const version = result.views[0]!.version;
    expect(await keys(`store-spark/offline/user_stats/${version}/`)).toEqual([`store-spark/offline/user_stats/${version}/_table.json`, `store-spark/${table.key}`]);
    const [m] = await repo.larder.materialize();
    expect(m!.events).toBe(n);
  },
  120_000,
);

test("unchanged objects are not downloaded again; a changed object is fetched anew and the numbers follow it", async () => {
  const repo = s3Repo(FEATURES_TS, "s3://lake/cached/*.csv", "store2");
  await bucket.write("cached/part-0.csv", csvPart(0, 200));
  await bucket.write("cached/part-1.csv", csvPart(200, n));
  await repo.larder.apply();
  const refs = repo.larder.registry().service("all").features;
  await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs });
  const cacheDir = join(repo.dir, "data", "cache", "s3", "lake");
  const cached = () =>
    Object.fromEntries(
      readdirSync(cacheDir)
        .filter((f) => f.endsWith(".csv"))
        .map((f) => [f, statSync(join(cacheDir, f)).ino]),
    );
  const before = cached();
  expect(Object.keys(before).length).toBe(2);

  // A new version of the view builds a new offline table from the same objects: they are
  // listed again, and read from the cache, not downloaded (the same files, same inodes).
  repo.write(
    "features/stats.ts",
    FEATURES_TS.replace('path: "data/events.csv"', 'path: "s3://lake/cached/*.csv"').replace(
      'doubled: sql("amount * 2"),',
      'doubled: sql("amount * 2"),\n    tripled: sql("amount * 3"),',
    ),
  );
  const plan = await repo.larder.apply();
  expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toContain("change feature view user_stats");
  const rebuilt = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs });
  expect(rebuilt.views[0]!.table.builtAt >= new Date(Date.now() - 5000).toISOString()).toBe(true);
  expect(cached()).toEqual(before);

  // Change the second object: one event's amount, in place.
  const changed = events.map((e) => ({ ...e }));
  const target = changed.findIndex((e, i) => i >= 200 && e.amount !== null);
  changed[target]!.amount = 99_999;
  const changedLines = eventsCsv(changed).trimEnd().split("\n");
  await bucket.write("cached/part-1.csv", `${[changedLines[0], ...changedLines.slice(201)].join("\n")}\n`);
  const result = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs, collect: true });
  const after = cached();
  expect(Object.keys(after).length).toBe(2);
  const [kept] = Object.entries(before).filter(([f]) => f in after);
  expect(kept).toBeDefined(); // part-0: same file, same inode
  expect(Object.keys(after).filter((f) => !(f in before)).length).toBe(1); // part-1: a new copy, the old one gone
  expect(result.views[0]!.table.rows).toBe(n);
  const got = result.records!;
  expect(trainingSetMismatches(got, labels, changed, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
});

test("pushed rows are kept in the bucket, and a server with its own data folder computes from them", async () => {
  const pushed = events.slice(0, 150);
  const files = { "data/events.csv": pushCsv(events.slice(150)) };
  const a = s3Repo(PUSH_FEATURES_TS, "data/events.csv", "shared", files);
  const b = s3Repo(PUSH_FEATURES_TS, "data/events.csv", "shared", files);
  await a.larder.apply();
  await b.larder.apply();
  const r = await a.larder.push({ source: "events_push", rows: pushed.map(pushRow), to: "offline" });
  expect(r.segment).toMatch(/^s3:\/\/lake\/shared\/pushed\/events_push\/\d+-\d+-\d+\.parquet$/);
  expect(await keys("shared/pushed/events_push/")).toEqual([r.segment!.slice("s3://lake/".length)]);
  // B never saw the push: it reads the segment from the bucket.
  const result = await b.larder.historical({ labelsPath: join(b.dir, "labels.csv"), refs: b.larder.registry().service("all").features, collect: true });
  expect(result.views[0]!.table.rows).toBe(n);
  const got = result.records!;
  // Pushed rows come after the file's rows: renumber so ties resolve as Larder reads them.
  const order = [...events.slice(150), ...pushed].map((e, seq) => ({ ...e, seq }));
  expect(trainingSetMismatches(got, labels, order, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
});

test("a label table read from S3 and a training set written to S3", async () => {
  await bucket.write("labels/labels.csv", labelsCsv(labels));
  await bucket.write("events-one/events.csv", eventsCsv(events));
  const repo = s3Repo(FEATURES_TS, "s3://lake/events-one/events.csv", "store3");
  await repo.larder.apply();
  const result = await repo.larder.historical({
    labelsPath: "s3://lake/labels/labels.csv",
    refs: repo.larder.registry().service("all").features,
    outPath: "s3://lake/training/set.parquet",
  });
  expect(result.rows).toBe(labels.length);
  const duck = await repo.larder.duck();
  const local = join(repo.dir, "downloaded.parquet");
  await Bun.write(local, bucket.file("training/set.parquet"));
  const got = await duck.all(`SELECT * FROM read_parquet('${local}')`);
  expect(trainingSetMismatches(got, labels, events, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
  await expect(repo.larder.historical({ labelsPath: "s3://lake/labels/missing.csv", refs: repo.larder.registry().service("all").features })).rejects.toThrow(
    "label table s3://lake/labels/missing.csv does not exist",
  );
});

test("S3 out of reach is a clear error naming the endpoint", async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const repo = tempRepo({ "features/stats.ts": FEATURES_TS.replace('path: "data/events.csv"', 'path: "s3://lake/events/**/*.csv"') }, { s3Endpoint: closed });
  repos.push(repo);
  await repo.larder.apply();
  await expect(repo.larder.materialize()).rejects.toThrow(`S3 list s3://lake/events/* failed`);
  await expect(repo.larder.materialize()).rejects.toThrow(`is ${closed} reachable?`);
});
