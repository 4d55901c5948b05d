/**
 * A view's offline table built by Spark (spark_job.py, "offline-table"): the same columns,
 * rows and order as the DuckDB build (offline/offline-table.ts), so materialization and
 * historical retrieval read either alike. Values not of their declared type refuse the
 * batch here too. Expectations (when the view or its source declares any) are checked
 * first by `checkExpectations`, DuckDB's own checks over the same files, so a batch passes
 * or fails them alike on either engine.
 */
import type { ResolvedView } from "../../registry/registry.ts";
import { viewLayout } from "../../windows/view-layout.ts";
import type { ValidationReport } from "../../validation/validate-batch.ts";
import { type SparkEngine, withSparkWorkDir } from "./spark-job.ts";
import type { BuiltOfflineTable } from "../offline-table.ts";
import { expressionType } from "../expression-type.ts";

export async function buildWithSpark(
  spark: SparkEngine,
  dataDir: string,
  v: ResolvedView,
  files: string[],
  segments: string[],
  staged: string,
  checkExpectations: (() => Promise<ValidationReport>) | null,
): Promise<BuiltOfflineTable> {
  const checked = checkExpectations ? await checkExpectations() : null;
  const layout = viewLayout(v.def);
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
      expressions: layout.expressions.map((e) => ({ name: e.name, sql: e.sql, type: expressionType(v, e.name) })),
      inputs: layout.inputs,
      eventIdField: v.push?.eventIdField ?? null,
      out: staged,
    }),
  );
  const n = Number(result.rows);
  return {
    stats: { n, lo: result.minTs === null ? null : Number(result.minTs), hi: result.maxTs === null ? null : Number(result.maxTs) },
    validation: checked ?? { passed: true, rows: n, checks: [], quarantine: null },
  };
}
