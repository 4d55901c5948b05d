/**
 * Database sources: a SQLite file and a real PostgreSQL (started by the test), pulled in
 * chunks into Parquet snapshots. The same events as a table give the same training set as
 * the CSV file; PostgreSQL pulls only newer rows while nothing before its watermark changed.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { DatabaseSourceDef } from "../src/definitions/types.ts";
import { pullDatabaseSource } from "../src/offline/database/pull-database.ts";
import { CHUNK_ROWS } from "../src/offline/database/source-database.ts";
import { createApp } from "../src/server/app.ts";
import { startPostgres, type PostgresServer } from "./helpers/postgres-server.ts";
import { trainingSetMismatches, type RefEvent } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, TTL, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { SKIP } from "./helpers/needs.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const events = randomEvents(61, 400);
const labels = randomLabels(61, events, 150);
const DAY = 86_400_000;

/** The scenario's view over a database source in place of its CSV file. */
const databaseFeatures = (connection: string, from: string) =>
  FEATURES_TS.replace("import { entity, fileSource,", "import { entity, databaseSource,").replace(
    'fileSource({\n  name: "events",\n  path: "data/events.csv",',
    `databaseSource({\n  name: "events",\n  connection: ${JSON.stringify(connection)},\n  ${from},`,
  );

function dbRepo(connection: string, from = 'table: "events"', config: Record<string, string> = {}): TempRepo {
  const repo = tempRepo({ "features/stats.ts": databaseFeatures(connection, from), "labels.csv": labelsCsv(labels) }, config);
  repos.push(repo);
  return repo;
}

async function trainingSetErrors(repo: TempRepo, want: RefEvent[]): Promise<string[]> {
  const set42 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
  const got = set42.records!;
  return trainingSetMismatches(got, labels, want, TTL, REF_FEATURES).slice(0, 5);
}

const sourceOf = (repo: TempRepo) => repo.larder.registry().data.sources.events as DatabaseSourceDef;
const pull = async (repo: TempRepo) => pullDatabaseSource(await repo.larder.duck(), sourceOf(repo), repo.dir, repo.larder.config.dataDir);

describe("SQLite", () => {
  const iso = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  const insert = (db: Database, list: RefEvent[]) => {
    const stmt = db.prepare("INSERT INTO events (user_id, ts, amount, category) VALUES (?, ?, ?, ?)");
    db.transaction(() => {
      for (const e of list) stmt.run(e.key, iso(e.ts), e.amount, e.category);
    })();
  };

  test("a SQLite table gives the training set of the same events in a file; it is pulled again only when the file changes", async () => {
    const repo = dbRepo("sqlite:data/app.db");
    repo.write("data/.keep", "");
    const file = new Database(join(repo.dir, "data", "app.db"), { create: true });
    // ISO text without a zone, as SQLite apps often store it: read as UTC.
    file.run("CREATE TABLE events (user_id INTEGER, ts TEXT, amount REAL, category TEXT)");
    insert(file, events.slice(0, 300));
    await repo.larder.apply();
    expect(await trainingSetErrors(repo, events.slice(0, 300))).toEqual([]);
    expect((await pull(repo)).mode).toBe("unchanged");

    insert(file, events.slice(300));
    file.close();
    const again = await pull(repo);
    expect(again.mode).toBe("full");
    expect(again.rows).toBe(events.length);
    expect(await trainingSetErrors(repo, events)).toEqual([]);
  });

  test("a query as the source, and a bad query named in the error", async () => {
    const repo = dbRepo("sqlite:app.db", 'query: "SELECT user_id, ts, amount, category FROM events WHERE user_id <> 2"');
    const file = new Database(join(repo.dir, "app.db"), { create: true });
    file.run("CREATE TABLE events (user_id INTEGER, ts TEXT, amount REAL, category TEXT)");
    insert(file, events);
    file.close();
    await repo.larder.apply();
    const kept = events.filter((e) => e.key !== 2);
    expect((await pull(repo)).rows).toBe(kept.length);
    const set87 = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
    const got = set87.records!;
    const others = labels.map((l, i) => ({ l, i })).filter(({ l }) => l.user_id !== 2);
    expect(
      trainingSetMismatches(
        others.map(({ i }) => got[i]!),
        others.map(({ l }) => l),
        kept,
        TTL,
        REF_FEATURES,
      ).slice(0, 5),
    ).toEqual([]);

    const broken = dbRepo("sqlite:app.db", 'query: "SELECT user_id, ts, amount, category FROM no_such_table"');
    const f2 = new Database(join(broken.dir, "app.db"), { create: true });
    f2.close();
    await broken.larder.apply();
    await expect(broken.larder.materialize()).rejects.toThrow('source "events": no such table: no_such_table (in its query)');
  });
});

describe("PostgreSQL", () => {
  let pg!: PostgresServer;
  let sql: Bun.SQL;
  beforeAll(async () => {
    if (!SKIP.postgres) pg = (await startPostgres())!;
    if (pg) sql = new Bun.SQL(pg.url);
  });
  afterAll(async () => {
    await sql?.close();
    await pg?.stop();
  });

  const insert = async (table: string, list: RefEvent[]) => {
    const rows = list.map((e) => ({ user_id: e.key, ts: new Date(e.ts).toISOString().replace("Z", ""), amount: e.amount, category: e.category }));
    // One bound JSON parameter, rows in order (the table's physical order is insertion order).
    await sql.unsafe(`INSERT INTO ${table} SELECT * FROM json_to_recordset($1::text::json) AS x(user_id int8, ts timestamp, amount float8, category text)`, [JSON.stringify(rows)]);
  };

  test.skipIf(SKIP.postgres)(
    "a PostgreSQL table gives the training set of the same events in a file; newer rows are pulled incrementally, a late row forces a full pull",
    async () => {
      await sql.unsafe("CREATE TABLE events (user_id int8, ts timestamp, amount float8, category text)");
      // Rows in time order, so "newer rows" are a tail: the first 300 by time, then the rest.
      const byTime = [...events].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      await insert("events", byTime.slice(0, 300));
      // The password-free URL through ${VAR}, as secrets would be.
      const repo = dbRepo("${PG_TEST_URL}", 'table: "events"');
      process.env.PG_TEST_URL = pg.url;
      await repo.larder.apply();
      expect(
        await trainingSetErrors(
          repo,
          byTime.slice(0, 300).map((e, seq) => ({ ...e, seq })),
        ),
      ).toEqual([]);
      expect((await pull(repo)).mode).toBe("unchanged");

      await insert("events", byTime.slice(300));
      const inc = await pull(repo);
      expect({ mode: inc.mode, fetched: inc.fetched, rows: inc.rows, parts: inc.files.length }).toEqual({
        mode: "incremental",
        fetched: events.length - 300,
        rows: events.length,
        parts: 2,
      });
      expect(
        await trainingSetErrors(
          repo,
          byTime.map((e, seq) => ({ ...e, seq })),
        ),
      ).toEqual([]);

      // A late event (older than the watermark) changes the past: everything is pulled again.
      const late: RefEvent = { key: 1, ts: byTime[10]!.ts + 1, seq: events.length, amount: 7, category: "a" };
      await insert("events", [late]);
      const full = await pull(repo);
      expect({ mode: full.mode, rows: full.rows }).toEqual({ mode: "full", rows: events.length + 1 });
      expect(
        await trainingSetErrors(
          repo,
          [...byTime, late].map((e, seq) => ({ ...e, seq })),
        ),
      ).toEqual([]);
      delete process.env.PG_TEST_URL;
    },
  );

  test.skipIf(SKIP.postgres)("a big table is fetched in chunks through a cursor", async () => {
    const n = CHUNK_ROWS * 2 + 123;
    await sql.unsafe(
      `CREATE TABLE big AS SELECT (i % 1000)::int8 AS user_id, timestamp '2026-01-01' + i * interval '1 second' AS ts, (i % 97)::float8 AS amount, 'c' AS category FROM generate_series(1, ${n}) i`,
    );
    const repo = dbRepo(pg.url, 'table: "big"');
    await repo.larder.apply();
    const r = await pull(repo);
    expect({ mode: r.mode, rows: r.rows, parts: r.files.length }).toEqual({ mode: "full", rows: n, parts: 3 });
    const [m] = await repo.larder.materialize({ end: Date.UTC(2026, 0, 1) + DAY * 10 });
    expect(m!.events).toBe(n);
    expect(m!.entities).toBe(1000);
  });

  test.skipIf(SKIP.postgres)("an unset variable, a wrong table and an unreachable server are clear errors", async () => {
    const unset = dbRepo("postgres://larder:${PG_NO_SUCH_PASSWORD}@127.0.0.1:1/db");
    await unset.larder.apply();
    await expect(unset.larder.materialize()).rejects.toThrow('source "events": its connection uses ${PG_NO_SUCH_PASSWORD}, which is not set in the environment');

    const missing = dbRepo(pg.url, 'table: "no_such_table"');
    await missing.larder.apply();
    await expect(missing.larder.materialize()).rejects.toThrow(
      /source "events" \(postgres:\/\/larder@127\.0\.0\.1:\d+\/postgres\): reading row count and newest time failed: relation "no_such_table" does not exist/,
    );

    const down = dbRepo("postgres://larder:secret@127.0.0.1:1/postgres");
    await down.larder.apply();
    const err = await down.larder.materialize().catch((e: Error) => e);
    expect(String(err)).toContain('source "events" (postgres://larder:***@127.0.0.1:1/postgres): reading row count and newest time failed');
    expect(String(err)).not.toContain("secret");
    // Nor does the registry API serve it.
    const res = await createApp(down.larder, () => {}).request("/v1/registry/sources/events");
    expect(((await res.json()) as { connection: string }).connection).toBe("postgres://larder:***@127.0.0.1:1/postgres");
  });
});
