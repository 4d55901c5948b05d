/**
 * A view's offline table built by Spark (spark_job.py, "offline-table"): the same columns,
 * rows and order as the DuckDB build (offline/offline-table.ts), so materialization and
 * historical retrieval read either alike. Values not of their declared type refuse the
 * batch here too. Expectations are checked by the DuckDB engine only: a view whose source
 * or definition declares any is refused on Spark rather than built unchecked.
 */
import type { ResolvedView } from "../../registry/registry.ts";
import { viewLayout } from "../../windows/view-layout.ts";
import { UsageError } from "../../errors.ts";
import { type SparkEngine, withSparkWorkDir } from "./spark-job.ts";
import type { BuiltOfflineTable } from "../offline-table.ts";

export async function buildWithSpark(spark: SparkEngine, dataDir: string, v: ResolvedView, files: string[], segments: string[], staged: string): Promise<BuiltOfflineTable> {
  if (v.source.expectations.length > 0 || (v.def.expectations ?? []).length > 0) {
    throw new UsageError(`feature view "${v.def.name}" has expectations (on it or its source "${v.source.name}"), which the DuckDB engine checks: build it with --engine duckdb`);
  }
  const layout = viewLayout(v.def);
  const expressionType = (name: string) => {
    const f = v.def.features.find((x) => x.name === name);
    return f?.kind === "expression" ? f.type : null;
  };
  const result = await withSparkWorkDir(dataDir, (dir) =>
    spark.run(dir, {
      kind: "offline-table",
      source: {
        name: v.source.name,
        format: v.source.kind === "file" ? v.source.format : "parquet",
        files,
        segments,
        schema: v.source.schema,
        timestampField: v.source.timestampField,
      },
      keys: v.entity.joinKeys,
      expressions: layout.expressions.map((e) => ({ name: e.name, sql: e.sql, type: expressionType(e.name) })),
      inputs: layout.inputs,
      eventIdField: v.push?.eventIdField ?? null,
      out: staged,
    }),
  );
  const n = Number(result.rows);
  return {
    stats: { n, lo: result.minTs === null ? null : Number(result.minTs), hi: result.maxTs === null ? null : Number(result.maxTs) },
    validation: { passed: true, rows: n, checks: [], quarantine: null },
  };
}
