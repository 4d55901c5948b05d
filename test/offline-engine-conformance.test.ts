/**
 * The offline-engine conformance suite: every engine (DuckDB in-process, Spark through
 * PySpark at local[2]) computes the same training sets from one feature repo, and they
 * equal the brute-force reference and each other: windows with hops, ttl, idle decay
 * (empty windows), entities with no history, ties at one instant, labels at event instants,
 * late events (file order is not time order), lifetime aggregations, pushed rows with a
 * redelivery. Materialization fills the online store from either engine's offline tables
 * with the same values.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { Duck, literal } from "../src/offline/duckdb.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { close, referenceValues, trainingSetMismatches } from "./helpers/reference.ts";
import { REF_FEATURES, TTL, labelsCsv, randomLabels, type Label } from "./helpers/random-scenario.ts";
import { engineScenario, SEEDS, TIE_FORMATS, type EngineScenario } from "./helpers/engine-scenario.ts";
import { pushRow } from "./helpers/push-scenario.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";
import { pick } from "./helpers/pick.ts";
import { SKIP, SPARK_PYTHON } from "./helpers/needs.ts";
import { startSparkCluster } from "./helpers/spark-cluster.ts";

const ENGINES = [
  { engine: "duckdb", skip: false },
  { engine: "spark", skip: SKIP.spark },
] as const;
type Engine = (typeof ENGINES)[number]["engine"];

let scenario: EngineScenario;
let repo: TempRepo;
const larders = new Map<Engine, Larder>();
/** Each engine's training sets, compared across engines at the end. */
const outputs = new Map<Engine, Record<string, { columns: string[]; records: Record<string, unknown>[] }>>();
const END = Date.UTC(2026, 1, 1);

beforeAll(async () => {
  scenario = engineScenario();
  const all = SEEDS.flatMap((s) => scenario.labels.get(s)!.map((l) => ({ ...l, event_timestamp: new Date(l.t).toISOString(), seed: s })));
  const pushedLabels = randomLabels(41, [...scenario.pushed.batch, ...scenario.pushed.rows]);
  repo = tempRepo({
    ...scenario.files,
    "labels-all.csv": toCsv(["seed", "user_id", "event_timestamp", "label"], all),
    "labels-pushed.csv": labelsCsv(pushedLabels),
  });
  const duck = await Duck.open();
  await duck.run(`COPY (SELECT * FROM read_csv(${literal(join(repo.dir, "data/ties.csv"))})) TO ${literal(join(repo.dir, "data/ties.parquet"))} (FORMAT parquet)`);
  duck.close();
  larders.set("duckdb", repo.larder);
  if (!SKIP.spark) {
    larders.set(
      "spark",
      new Larder(loadConfig({ repoDir: repo.dir, dataDir: join(repo.dir, "data-spark"), engine: "spark", sparkMaster: "local[2]", sparkPython: SPARK_PYTHON! }, {})),
    );
  }
  for (const larder of larders.values()) {
    await larder.apply();
    // The pushed half goes to the offline store, ten rows of it twice (a redelivery).
    const rows = [...scenario.pushed.rows, ...scenario.pushed.again].map(pushRow);
    await larder.push({ source: "pushed_events_push", rows, to: "offline" });
  }
}, 60_000);

afterAll(async () => {
  await larders.get("spark")?.close();
  await repo?.cleanup();
});

/** Plain feature names (`count_1h`) from full ones (`user_stats_1__count_1h`) for one view. */
const ofView = (row: Record<string, unknown>, view: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(row).flatMap(([k, v]) => (k.startsWith(`${view}__`) ? [[k.slice(view.length + 2), v]] : [])));

const saved = (engine: Engine, name: string, result: { columns: string[]; records?: Record<string, unknown>[] }) => {
  const byName = outputs.get(engine) ?? {};
  byName[name] = { columns: result.columns, records: result.records! };
  outputs.set(engine, byName);
};

/** Every feature of `views`, as references. */
const allOf = (larder: Larder, ...views: string[]) =>
  views.flatMap((view) =>
    larder
      .registry()
      .view(view)
      .def.features.map((f) => ({ view, feature: f.name })),
  );

/** Where two training sets' rows differ, value by value (floats within the reference's tolerance, types alike). */
function differences(got: Record<string, unknown>[], want: Record<string, unknown>[]): string[] {
  const out = got.length === want.length ? [] : [`${got.length} rows, want ${want.length}`];
  want.forEach((row, i) => {
    for (const [column, value] of Object.entries(row)) {
      const other = got[i]?.[column];
      if (typeof other !== typeof value || !close(other, value)) out.push(`row ${i} ${column}: ${other}, want ${value}`);
    }
  });
  return out;
}

for (const { engine, skip } of ENGINES) {
  describe(`offline engine conformance: ${engine}`, () => {
    test.skipIf(skip)(
      "random scenarios equal the brute-force reference: hops, ttl, idle decay, no history, ties, labels at event instants, late rows",
      async () => {
        const larder = larders.get(engine)!;
        const refs = allOf(larder, ...SEEDS.map((s) => `user_stats_${s}`));
        const result = await larder.historical({ labelsPath: join(repo.dir, "labels-all.csv"), refs, fullNames: true, collect: true });
        saved(engine, "random", result);
        const rows = result.records!;
        let from = 0;
        for (const s of SEEDS) {
          const labels = scenario.labels.get(s)!;
          const mine = rows.slice(from, from + labels.length);
          from += labels.length;
          expect(mine.every((r) => r.seed === s)).toBe(true);
          const plain = mine.map((r): Record<string, unknown> => ({ ...ofView(r, `user_stats_${s}`), user_id: r.user_id, label: r.label }));
          expect(plain.map((r) => [r.user_id, r.label])).toEqual(labels.map((l: Label) => [l.user_id, l.label]));
          expect(trainingSetMismatches(plain, labels, scenario.events.get(s)!, TTL, REF_FEATURES).slice(0, 10)).toEqual([]);
          // The scenario really exercises the edge cases.
          expect(plain.filter((r) => r.life_count === null).length).toBeGreaterThan(10);
          expect(plain.filter((r, i) => labels[i]!.user_id === 3 && r.life_count !== null && r.count_1d === 0).length).toBeGreaterThan(0);
          expect(plain.filter((r) => r.life_count !== null && r.category === null).length).toBeGreaterThan(0);
        }
      },
      300_000,
    );

    for (const { file, view } of TIE_FORMATS) {
      test.skipIf(skip)(
        `ties at one instant (${file}): the later source row wins, and an event at t is not part of t's features`,
        async () => {
          const larder = larders.get(engine)!;
          const result = await larder.historical({ labelsPath: join(repo.dir, "ties-labels.csv"), refs: allOf(larder, view), collect: true });
          saved(engine, view, result);
          // At 01:00:00.001 the 1h window starts at align(00:00:00.001, 1m) = 00:00, so the
          // 00:00 event is still inside it (the tail moves in whole hops): count_1h is 3.
          expect(pick(result.records!, ["user_id", "category", "last_1d", "count_1h", "sum_2d", "life_count"])).toEqual([
            { user_id: 1, category: "a", last_1d: 10, count_1h: 1, sum_2d: 10, life_count: 1 },
            { user_id: 1, category: "c", last_1d: 30, count_1h: 3, sum_2d: 60, life_count: 3 },
            { user_id: 9, category: null, last_1d: null, count_1h: null, sum_2d: null, life_count: null },
          ]);
        },
        120_000,
      );
    }

    test.skipIf(skip)(
      "pushed rows join the batch file offline; a redelivered event counts once",
      async () => {
        const larder = larders.get(engine)!;
        const refs = allOf(larder, "pushed_stats");
        const result = await larder.historical({ labelsPath: join(repo.dir, "labels-pushed.csv"), refs, collect: true });
        saved(engine, "pushed", result);
        const events = [...scenario.pushed.batch, ...scenario.pushed.rows];
        const labels = randomLabels(41, events);
        expect(trainingSetMismatches(result.records!, labels, events, TTL, REF_FEATURES).slice(0, 10)).toEqual([]);
      },
      120_000,
    );

    test.skipIf(skip)(
      "materialize fills the online store from this engine's offline tables: lookups equal the reference",
      async () => {
        const larder = larders.get(engine)!;
        const runs = await larder.materialize({ end: END });
        expect(runs.map((r) => r.view).sort()).toEqual(["pushed_stats", ...TIE_FORMATS.map((f) => f.view).sort(), "user_stats_1", "user_stats_2", "user_stats_3"]);
        for (const s of SEEDS) {
          const view = `user_stats_${s}`;
          // The table materialize read is the one this engine built.
          const manifest = JSON.parse(readFileSync(join(larder.config.dataDir, "offline", view, larder.registry().view(view).version, "_table.json"), "utf8"));
          expect(manifest.engine).toBe(engine);
          const users = [1, 2, 3, 4, 5, 6, 7, 8];
          const refs = REF_FEATURES.map((f) => ({ view, feature: f.name }));
          const online = await getOnlineFeatures(larder.registry(), larder.store(), { refs, entities: { user_id: users }, at: END }, 100);
          const wrong: string[] = [];
          online.results.forEach((r, i) => {
            const want = referenceValues(scenario.events.get(s)!, users[i]!, END, TTL, REF_FEATURES);
            for (const f of REF_FEATURES) if (!close(r.values[f.name], want[f.name])) wrong.push(`${view} user ${users[i]} ${f.name}: ${r.values[f.name]} ≠ ${want[f.name]}`);
          });
          expect(wrong).toEqual([]);
        }
      },
      120_000,
    );
  });
}

describe("offline engines agree", () => {
  test.skipIf(SKIP.spark)("Spark's training sets equal DuckDB's: the same columns, types and values", () => {
    const duck = outputs.get("duckdb")!;
    const spark = outputs.get("spark")!;
    for (const name of ["random", ...TIE_FORMATS.map((f) => f.view), "pushed"]) {
      expect(spark[name]!.columns).toEqual(duck[name]!.columns);
      expect(differences(spark[name]!.records, duck[name]!.records).slice(0, 10)).toEqual([]);
    }
  });
});

describe("Spark at a spark:// master", () => {
  test.skipIf(SKIP.spark)(
    "a standalone cluster on loopback (a master, a worker, executors of their own) computes DuckDB's training set",
    async () => {
      const cluster = await startSparkCluster(SPARK_PYTHON!);
      const larder = new Larder(
        loadConfig(
          {
            repoDir: repo.dir,
            dataDir: join(repo.dir, "data-cluster"),
            engine: "spark",
            sparkMaster: cluster.master,
            sparkPython: SPARK_PYTHON!,
            sparkConf: "spark.executor.memory=1g,spark.sql.shuffle.partitions=4",
          },
          {},
        ),
      );
      try {
        await larder.apply();
        const refs = allOf(larder, ...SEEDS.map((s) => `user_stats_${s}`));
        const result = await larder.historical({ labelsPath: join(repo.dir, "labels-all.csv"), refs, fullNames: true, collect: true });
        expect(result.views.map((v) => v.table.engine)).toEqual(["spark", "spark", "spark"]);
        const duck = outputs.get("duckdb")!.random!;
        expect(result.columns).toEqual(duck.columns);
        expect(differences(result.records!, duck.records).slice(0, 10)).toEqual([]);
      } finally {
        await larder.close();
        await cluster.stop();
      }
    },
    300_000,
  );
});

describe("the Spark engine's refusals", () => {
  test.skipIf(SKIP.spark)(
    "values not of their declared type refuse the batch; expectations are checked as on DuckDB; nothing is written on failure",
    async () => {
      const larder = larders.get("spark")!;
      repo.write(
        "features/more.ts",
        `import { fileSource, featureView, count, sum, between } from "larder";
import { z } from "zod";
import { user } from "./stats.ts";
const schema = z.object({ user_id: z.int(), ts: z.date(), amount: z.number() });
export const badSource = fileSource({ name: "bad", path: "data/bad.csv", timestampField: "ts", schema });
export const bad = featureView({ name: "bad_stats", entity: user, source: badSource, features: { n: count("1d") } });
export const checkedSource = fileSource({ name: "checked", path: "data/ties.csv", timestampField: "ts", schema, expectations: [between("amount", { min: 0 })] });
export const checked = featureView({ name: "checked_stats", entity: user, source: checkedSource, features: { total: sum("amount", "1d") } });
export const strictSource = fileSource({ name: "strict", path: "data/ties.csv", timestampField: "ts", schema, expectations: [between("amount", { min: 15 })] });
export const strict = featureView({ name: "strict_stats", entity: user, source: strictSource, features: { total: sum("amount", "1d") } });
`,
      );
      repo.write("data/bad.csv", "user_id,ts,amount\n1,2026-01-01T00:00:00Z,5\n2,2026-01-01T00:00:00Z,lots\nx,2026-01-01T00:00:00Z,\n");
      await larder.apply();
      const labelsPath = join(repo.dir, "ties-labels.csv");
      const bad = await larder.historical({ labelsPath, refs: [{ view: "bad_stats", feature: "n" }] }).catch((e) => e);
      expect(bad.code).toBe("invalid_data");
      expect(bad.status).toBe(422);
      expect(bad.message).toBe('source "bad": 2 rows do not keep to the declared schema (amount: lots is not a float64; user_id: x is not a int64)');
      // Expectations that pass: the table is built by Spark, its values as DuckDB's.
      const checked = await larder.historical({ labelsPath, refs: [{ view: "checked_stats", feature: "total" }], collect: true });
      expect(checked.records!.map((r) => r.total)).toEqual([10, 60, null]);
      expect(checked.views[0]!.table.engine).toBe("spark");
      expect(checked.views[0]!.table.validation.checks.map((c) => [c.rule, c.passed])).toEqual([
        ["schema types", true],
        ["between(amount, min 0)", true],
      ]);
      // Expectations that fail: refused with DuckDB's own message.
      const strict = await larder.historical({ labelsPath, refs: [{ view: "strict_stats", feature: "total" }] }).catch((e) => e);
      const onDuckDB = await repo.larder.apply().then(() => repo.larder.historical({ labelsPath, refs: [{ view: "strict_stats", feature: "total" }] }).catch((e) => e));
      expect(strict.code).toBe(onDuckDB.code);
      // The same message, but for where each engine's data folder keeps the failing rows.
      const quarantine = /\/data(-spark)?\/quarantine\/.*$/m;
      expect(strict.message.replace(quarantine, "")).toBe(onDuckDB.message.replace(quarantine, ""));
      expect(strict.message).toContain('feature view "strict_stats"');
      // Neither failure left an offline table behind, nor Spark's files.
      const left = (view: string) => {
        const dir = join(larder.config.dataDir, "offline", view);
        return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
      };
      for (const view of ["bad_stats", "strict_stats"]) expect(left(view).filter((f) => /\.(parquet|json|parts)$/.test(f))).toEqual([]);
    },
    120_000,
  );

  test("a Python without PySpark: the error says what to install or set", async () => {
    const r = tempRepo(engineScenario().files, { engine: "spark", sparkPython: "/usr/bin/python3" });
    try {
      await r.larder.apply();
      writeFileSync(join(r.dir, "l.csv"), "user_id,event_timestamp\n1,2026-01-02T00:00:00Z\n");
      const err = await r.larder.historical({ labelsPath: join(r.dir, "l.csv"), refs: [{ view: "tie_stats", feature: "count_1h" }] }).catch((e) => e);
      expect(err.code).toBe("spark_error");
      expect(err.message).toBe("/usr/bin/python3 has no PySpark: install it (pip install pyspark) or point LARDER_SPARK_PYTHON at a Python that has it");
    } finally {
      await r.cleanup();
    }
  }, 60_000);
});
