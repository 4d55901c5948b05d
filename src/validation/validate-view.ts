/**
 * `larder validate`: a view's expectations (and its source's) over its input rows now,
 * optionally only events in [start, end), without writing anything (no table, no
 * quarantine, no reference); `saveReference` makes this batch the PSI reference.
 */
import type { ResolvedView } from "../registry/registry.ts";
import { type Duck, ident } from "../offline/duckdb.ts";
import type { OfflineContext } from "../offline/offline-context.ts";
import { viewInputFiles } from "../offline/offline-table.ts";
import { viewInputSql } from "../offline/source-sql.ts";
import { validateBatch, type ValidationReport } from "./validate-batch.ts";
import { viewBatchChecks } from "./view-checks.ts";

export type ViewValidation = { view: string; version: string; source: string; report: ValidationReport };

export async function validateView(
  duck: Duck,
  v: ResolvedView,
  ctx: OfflineContext,
  opts: { start?: number; end?: number; saveReference?: boolean } = {},
): Promise<ViewValidation> {
  const { files, segments } = await viewInputFiles(duck, v, ctx);
  const readable = (list: typeof files) => Promise.all(list.map((f) => ctx.storage.readable(f)));
  const ts = ident(v.source.timestampField);
  const range = [
    opts.start === undefined ? null : `${ts} >= make_timestamp(${Math.trunc(opts.start)} * 1000)`,
    opts.end === undefined ? null : `${ts} < make_timestamp(${Math.trunc(opts.end)} * 1000)`,
  ].filter(Boolean);
  await duck.run(
    `CREATE OR REPLACE TEMP TABLE __source AS SELECT * FROM (${viewInputSql(v.source, await readable(files), await readable(segments))})${range.length ? ` WHERE ${range.join(" AND ")}` : ""}`,
  );
  try {
    const report = await validateBatch(duck, { ...viewBatchChecks(v, ctx), quarantine: null, saveReferences: opts.saveReference ? "always" : "never" });
    return { view: v.def.name, version: v.version, source: v.source.name, report };
  } finally {
    await duck.run("DROP TABLE IF EXISTS __source");
  }
}

/** A readable report: one line per check, ✔ passed, ✖ failed (error), ! failed (warn). */
export function formatValidation(results: ViewValidation[]): string {
  return results
    .map((r) => {
      const failed = r.report.checks.filter((c) => !c.passed && c.severity === "error").length;
      const warned = r.report.checks.filter((c) => !c.passed && c.severity === "warn").length;
      const head = `feature view ${r.view} @${r.version} (source ${r.source}): ${r.report.rows} rows, ${r.report.checks.length} checks: ${failed ? `FAILED (${failed})` : "passed"}${warned ? `, ${warned} warning${warned === 1 ? "" : "s"}` : ""}`;
      return [head, ...r.report.checks.map((c) => `  ${c.passed ? "✔" : c.severity === "error" ? "✖" : "!"} ${c.message}`)].join("\n");
    })
    .join("\n\n");
}
