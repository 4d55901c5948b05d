/**
 * `get_historical_features`: a point-in-time correct training set for a label table.
 * Every label row is kept (in its order), label columns pass through, and each requested
 * feature is computed as of the row's own timestamp (offline/point-in-time-sql.ts).
 */
import { extname } from "node:path";
import { existsSync } from "node:fs";
import { BadRequestError } from "../errors.ts";
import type { FeatureRef } from "../definitions/types.ts";
import type { Registry, ResolvedView } from "../registry/registry.ts";
import { type Duck, ident, literal } from "./duckdb.ts";
import { ensureOfflineTable, type OfflineTable } from "./offline-table.ts";
import { pointInTimeSql } from "./point-in-time-sql.ts";

export type HistoricalRequest = {
  /** Path of a CSV, Parquet or JSON label table. */
  labelsPath: string;
  refs: FeatureRef[];
  timestampColumn?: string;
  /** Name columns `view__feature` (Feast's full_feature_names); otherwise the feature name. */
  fullNames?: boolean;
  /** Write the training set here as Parquet; otherwise it stays in the temp table __training_set. */
  outPath?: string;
};

export type HistoricalResult = { rows: number; columns: string[]; views: { view: string; version: string; table: OfflineTable }[] };

export const DEFAULT_TIMESTAMP_COLUMN = "event_timestamp";

function readLabels(path: string): string {
  if (!existsSync(path)) throw new BadRequestError(`label table ${path} does not exist`);
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") return `read_parquet(${literal(path)})`;
  if (ext === ".csv" || ext === ".tsv") return `read_csv(${literal(path)}, header = true)`;
  if (ext === ".json" || ext === ".jsonl" || ext === ".ndjson") return `read_json_auto(${literal(path)})`;
  throw new BadRequestError(`label table ${path}: use a .csv, .parquet or .json file`);
}

export async function getHistoricalFeatures(duck: Duck, registry: Registry, ctx: { repoDir: string; dataDir: string }, req: HistoricalRequest): Promise<HistoricalResult> {
  if (req.refs.length === 0) throw new BadRequestError("no features requested");
  const tsColumn = req.timestampColumn ?? DEFAULT_TIMESTAMP_COLUMN;
  await duck.run(`CREATE OR REPLACE TEMP TABLE __labels_in AS SELECT * FROM ${readLabels(req.labelsPath)}`);
  const labelColumns = (await duck.describe("SELECT * FROM __labels_in")).map((c) => c.name);
  if (!labelColumns.includes(tsColumn)) {
    throw new BadRequestError(`label table has no timestamp column "${tsColumn}" (it has ${labelColumns.join(", ")}); name one with --timestamp-column`);
  }
  await duck.run(`CREATE OR REPLACE TEMP TABLE __labels AS SELECT rowid AS __row, epoch_ms(CAST(${ident(tsColumn)} AS TIMESTAMP)) AS __t, * FROM __labels_in`);
  const [nullTs] = await duck.all<{ n: number }>(`SELECT count(*) AS n FROM __labels WHERE __t IS NULL`);
  if (nullTs!.n > 0) throw new BadRequestError(`label table: ${nullTs!.n} rows have no ${tsColumn}`);

  const byView = new Map<string, string[]>();
  for (const r of req.refs) byView.set(r.view, [...(byView.get(r.view) ?? []), r.feature]);
  const columnName = (r: FeatureRef) => (req.fullNames ? `${r.view}__${r.feature}` : r.feature);
  const names = req.refs.map(columnName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new BadRequestError(`two requested features are both named "${dup}": ask for full names (--full-names) to get view__feature columns`);
  const clash = names.find((n) => labelColumns.includes(n));
  if (clash) throw new BadRequestError(`label table already has a column "${clash}", which is also a requested feature`);

  const views: HistoricalResult["views"] = [];
  const joins: string[] = [];
  let i = 0;
  for (const [viewName, features] of byView) {
    const v: ResolvedView = registry.view(viewName);
    for (const k of v.entity.joinKeys) {
      if (!labelColumns.includes(k.name)) throw new BadRequestError(`label table has no column "${k.name}", the join key of entity "${v.entity.name}" (needed by feature view "${viewName}")`);
    }
    const table = await ensureOfflineTable(duck, v, ctx.repoDir, ctx.dataDir);
    views.push({ view: viewName, version: v.version, table });
    const sql = pointInTimeSql(v, {
      labels: "SELECT * FROM __labels",
      offlineTablePath: table.path,
      features: features.map((f) => ({ name: f, column: columnName({ view: viewName, feature: f }) })),
    });
    await duck.run(`CREATE OR REPLACE TEMP TABLE __hv_${i} AS ${sql}`);
    joins.push(`LEFT JOIN __hv_${i} USING (__row)`);
    i++;
  }
  const select = `SELECT ${labelColumns.map(ident).join(", ")}, ${names.map(ident).join(", ")} FROM __labels ${joins.join(" ")} ORDER BY __row`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE __training_set AS ${select}`);
  if (req.outPath) await duck.run(`COPY __training_set TO ${literal(req.outPath)} (FORMAT parquet)`);
  const [count] = await duck.all<{ n: number }>("SELECT count(*) AS n FROM __training_set");
  return { rows: count!.n, columns: [...labelColumns, ...names], views };
}
