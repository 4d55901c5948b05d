/**
 * Historical retrieval's features computed by Spark (spark_job.py, "training-set"): the
 * label rows (__row, __t, join keys) go to Spark as Parquet, every view's features come
 * back one row per label in label order, and land in DuckDB as `__hv_<i>` tables with the
 * same column types the DuckDB engine gives them (offline/historical.ts joins them by position).
 */
import { join } from "node:path";
import type { ResolvedView } from "../../registry/registry.ts";
import { DUCKDB_TYPE } from "../../definitions/zod-columns.ts";
import { viewLayout } from "../../windows/view-layout.ts";
import { expressionType } from "../expression-type.ts";
import { type Duck, ident, literal } from "../duckdb.ts";
import { type SparkEngine, withSparkWorkDir } from "./spark-job.ts";

export type SparkViewRequest = {
  v: ResolvedView;
  /** The view's offline table, a local Parquet file. */
  eventsPath: string;
  features: string[];
  /** The feature's column name in the training set. */
  column: (feature: string) => string;
};

export async function sparkFeatureTables(duck: Duck, spark: SparkEngine, dataDir: string, labelsTable: string, views: SparkViewRequest[]): Promise<void> {
  await withSparkWorkDir(dataDir, async (dir) => {
    const keys = new Map(views.flatMap((r) => r.v.entity.joinKeys.map((k) => [k.name, k.type] as const)));
    const labelsPath = join(dir, "labels.parquet");
    const keyCasts = [...keys].map(([name, type]) => `TRY_CAST(${ident(name)} AS ${DUCKDB_TYPE[type]}) AS ${ident(name)}`);
    await duck.run(`COPY (SELECT __row, __t, ${keyCasts.join(", ")} FROM ${ident(labelsTable)}) TO ${literal(labelsPath)} (FORMAT parquet)`);
    const jobs = views.map((r, i) => {
      const layout = viewLayout(r.v.def);
      const features = r.features.map((name, j) => {
        const s = layout.features.find((f) => f.name === name)!;
        const out = `f${j}`;
        if (s.kind === "expression") return { name, out, kind: "expression" };
        if (s.kind === "lifetime") return { name, out, kind: "lifetime", fn: s.fn, input: s.input };
        return { name, out, kind: "window", fn: s.fn, input: s.input, window: s.window, hop: s.hop };
      });
      return { events: r.eventsPath, keys: r.v.entity.joinKeys, ttl: r.v.def.ttl, features, out: join(dir, `view-${i}.parquet`) };
    });
    await spark.run(dir, { kind: "training-set", labels: labelsPath, views: jobs });
    for (const [i, r] of views.entries()) {
      const columns = jobs[i]!.features.map((f) => {
        const type = f.kind === "expression" ? expressionType(r.v, f.name) : f.fn === "count" ? "BIGINT" : "DOUBLE";
        return `CAST(${ident(f.out)} AS ${type}) AS ${ident(r.column(f.name))}`;
      });
      await duck.run(`CREATE OR REPLACE TEMP TABLE __hv_${i} AS SELECT ${columns.join(", ")} FROM read_parquet(${literal(jobs[i]!.out)}) ORDER BY __row`);
    }
  });
}
