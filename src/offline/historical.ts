/**
 * `get_historical_features`: a point-in-time correct training set for a label table.
 * Every label row is kept (in its order), label columns pass through, and each requested
 * feature is computed as of the row's own timestamp (offline/point-in-time-sweep.ts).
 */
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { BadRequestError } from "../errors.ts";
import type { FeatureRef } from "../definitions/types.ts";
import type { Registry, ResolvedView } from "../registry/registry.ts";
import { type Duck, ident, literal } from "./duckdb.ts";
import { formatOf, readFileSql } from "./source-sql.ts";
import { ensureOfflineTable, type OfflineTable } from "./offline-table.ts";
import { sweepView, type SweepFeature } from "./point-in-time-sweep.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { isS3Url, parseS3Url } from "../storage/s3-location.ts";
import type { OfflineContext } from "./offline-context.ts";
import type { StoredFile } from "../storage/storage.ts";
import { sha256File } from "./content-hash.ts";
import { expressionType } from "./expression-type.ts";
import { sparkFeatureTables, type SparkViewRequest } from "./spark/spark-historical.ts";

export type HistoricalRequest = {
  /** Path (or s3:// address) of a CSV, Parquet or JSON label table. */
  labelsPath: string;
  refs: FeatureRef[];
  timestampColumn?: string;
  /** Name columns `view__feature` (Feast's full_feature_names); otherwise the feature name. */
  fullNames?: boolean;
  /** Return the rows in the result (`records`): for small sets, tests and clients that want values, not a file. */
  collect?: boolean;
  /** Write the training set here (a path or s3:// address) as Parquet; otherwise only the result's summary is kept. */
  outPath?: string;
};

export type HistoricalResult = {
  rows: number;
  columns: string[];
  views: { view: string; version: string; table: OfflineTable }[];
  /** SHA-256 of the Parquet file written, when `outPath` was given. */
  outputSha256?: string;
  /** The label table as it was read (what identifies its content). */
  labels: StoredFile;
};

export const DEFAULT_TIMESTAMP_COLUMN = "event_timestamp";

/** The temp table a training set is built in, dropped when its run ends (training-run.ts). */
export const TRAINING_SET_TABLE = "__training_set";

/** `sql` feature types that survive a trip through DOUBLE exactly (BIGINT may not). */
const SWEPT_TYPES = /^(DOUBLE|FLOAT|INTEGER|SMALLINT|TINYINT|UTINYINT|USMALLINT|UINTEGER)$/;

/** The label table (a local file, or an s3:// object read through the cache) as DuckDB's reader. */
async function readLabels(ctx: OfflineContext, path: string): Promise<{ sql: string; file: StoredFile }> {
  const format = formatOf(path);
  if (!format) throw new BadRequestError(`label table ${path}: use a .csv, .parquet or .json file`);
  const [file] = await ctx.storage.match(path);
  if (!file || /[*?[{]/.test(path)) throw new BadRequestError(`label table ${path} does not exist${/[*?[{]/.test(path) ? " (name one file, not a glob)" : ""}`);
  return { sql: readFileSql(format, await ctx.storage.readable(file)), file };
}

/** Writes the training set to a local path, or to S3 (written locally, then uploaded); its SHA-256. */
export async function writeTrainingSet(duck: Duck, ctx: OfflineContext, out: string): Promise<string> {
  if (!isS3Url(out)) {
    await duck.run(`COPY ${TRAINING_SET_TABLE} TO ${literal(out)} (FORMAT parquet)`);
    return sha256File(out);
  }
  const { bucket, key } = parseS3Url(out);
  const local = join(ctx.dataDir, "cache", `training-${process.pid}-${Date.now()}.parquet`);
  mkdirSync(dirname(local), { recursive: true });
  try {
    await duck.run(`COPY ${TRAINING_SET_TABLE} TO ${literal(local)} (FORMAT parquet)`);
    const sha = await sha256File(local);
    await ctx.storage.s3.upload(bucket, key, local);
    return sha;
  } finally {
    rmSync(local, { force: true });
  }
}

export async function getHistoricalFeatures(duck: Duck, registry: Registry, ctx: OfflineContext, req: HistoricalRequest): Promise<HistoricalResult> {
  if (req.refs.length === 0) throw new BadRequestError("no features requested");
  const tsColumn = req.timestampColumn ?? DEFAULT_TIMESTAMP_COLUMN;
  // One read of the file; the table's rowid is the file order (insertion order is kept).
  const labels = await readLabels(ctx, req.labelsPath);
  await duck.run(`CREATE OR REPLACE TEMP TABLE __labels_in AS SELECT * FROM ${labels.sql}`);
  const labelColumns = (await duck.describe("SELECT * FROM __labels_in")).map((c) => c.name);
  if (!labelColumns.includes(tsColumn)) {
    throw new BadRequestError(`label table has no timestamp column "${tsColumn}" (it has ${labelColumns.join(", ")}); name one with --timestamp-column`);
  }
  await duck.run(`CREATE OR REPLACE TEMP VIEW __labels AS SELECT rowid AS __row, epoch_ms(CAST(${ident(tsColumn)} AS TIMESTAMP)) AS __t, * FROM __labels_in`);
  const [counts] = await duck.all<{ n: number; nulls: number }>(`SELECT count(*) AS n, count(*) FILTER (WHERE __t IS NULL) AS nulls FROM __labels`);
  if (counts!.nulls > 0) throw new BadRequestError(`label table: ${counts!.nulls} rows have no ${tsColumn}`);
  const labelCount = counts!.n;

  const byView = new Map<string, string[]>();
  for (const r of req.refs) byView.set(r.view, [...(byView.get(r.view) ?? []), r.feature]);
  const columnName = (r: FeatureRef) => (req.fullNames ? `${r.view}__${r.feature}` : r.feature);
  const names = req.refs.map(columnName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new BadRequestError(`two requested features are both named "${dup}": ask for full names (--full-names) to get view__feature columns`);
  const clash = names.find((n) => labelColumns.includes(n));
  if (clash) throw new BadRequestError(`label table already has a column "${clash}", which is also a requested feature`);

  const views: HistoricalResult["views"] = [];
  const requests: SparkViewRequest[] = [];
  for (const [viewName, features] of byView) {
    const v: ResolvedView = registry.view(viewName);
    for (const k of v.entity.joinKeys) {
      if (!labelColumns.includes(k.name))
        throw new BadRequestError(`label table has no column "${k.name}", the join key of entity "${v.entity.name}" (needed by feature view "${viewName}")`);
    }
    const table = await ensureOfflineTable(duck, v, ctx);
    views.push({ view: viewName, version: v.version, table });
    requests.push({ v, eventsPath: table.path, features, column: (f) => columnName({ view: viewName, feature: f }) });
  }
  // Each view's features as __hv_<i>, one row per label in label order.
  if (ctx.spark) await sparkFeatureTables(duck, ctx.spark, ctx.dataDir, "__labels", requests);
  else {
    for (const [i, r] of requests.entries()) {
      await duck.run(`CREATE OR REPLACE TEMP TABLE __hv_${i} AS ${await viewFeaturesSql(duck, r.v, r.eventsPath, labelCount, r.features, r.column, i)}`);
    }
  }
  const joins = requests.map((_, i) => `POSITIONAL JOIN __hv_${i}`);
  // Every __hv table holds one row per label, in label order: join by position, not by key.
  const select = `SELECT ${labelColumns.map(ident).join(", ")}, ${names.map(ident).join(", ")} FROM __labels_in ${joins.join(" ")}`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${TRAINING_SET_TABLE} AS ${select}`);
  const outputSha256 = req.outPath ? await writeTrainingSet(duck, ctx, req.outPath) : undefined;
  const [count] = await duck.all<{ n: number }>(`SELECT count(*) AS n FROM ${TRAINING_SET_TABLE}`);
  return { rows: count!.n, columns: [...labelColumns, ...names], views, outputSha256, labels: labels.file };
}

/**
 * One view's features for every label row, in label order: aggregations and numeric
 * `sql` features from the sweep (written back through the appender, in order), other
 * `sql` features joined from the event the sweep chose (then sorted back into order).
 */
async function viewFeaturesSql(
  duck: Duck,
  v: ResolvedView,
  offlinePath: string,
  labelCount: number,
  features: string[],
  column: (f: string) => string,
  i: number,
): Promise<string> {
  const layout = viewLayout(v.def);
  const slots = features.map((name) => layout.features.find((f) => f.name === name)!);
  const aggregations = slots.flatMap((s): SweepFeature[] => {
    if (s.kind === "window") return [{ name: s.name, fn: s.fn, input: layout.series[s.series]!.input, window: s.window, hop: s.hop }];
    if (s.kind === "lifetime") return [{ name: s.name, fn: s.fn, input: layout.lifetime[s.slot]!.input, window: null, hop: null }];
    return [];
  });
  // Numeric `sql` features come out of the sweep itself; others are joined by __seq.
  const expressions = slots.filter((s) => s.kind === "expression");
  const numeric = expressions.filter((s) => SWEPT_TYPES.test(expressionType(v, s.name))).map((s) => s.name);
  const joined = expressions.filter((s) => !numeric.includes(s.name)).map((s) => ident(s.name));
  const swept = await sweepView(duck, v, offlinePath, "__labels", labelCount, aggregations, numeric, joined.length > 0);
  const rowIds = Float64Array.from({ length: labelCount }, (_, r) => r);
  const sweptNames = [...aggregations.map((a) => a.name), ...numeric];
  const seqColumn = swept.latestSeq ? ["__latest_seq"] : [];
  await duck.writeDoubleColumns(
    `__sweep_${i}`,
    ["__row", ...seqColumn, ...sweptNames],
    [rowIds, ...(swept.latestSeq ? [swept.latestSeq] : []), ...sweptNames.map((n) => swept.values.get(n)!)],
  );
  const outputs = slots.map((s) => {
    const as = ident(column(s.name));
    if (s.kind === "expression") {
      return numeric.includes(s.name) ? `CAST(__s.${ident(s.name)} AS ${expressionType(v, s.name)}) AS ${as}` : `__e.${ident(s.name)} AS ${as}`;
    }
    return s.fn === "count" ? `CAST(__s.${ident(s.name)} AS BIGINT) AS ${as}` : `__s.${ident(s.name)} AS ${as}`;
  });
  const join = joined.length
    ? `LEFT JOIN (SELECT __seq, ${joined.join(", ")} FROM read_parquet(${literal(offlinePath)}) WHERE __seq IN (SELECT __latest_seq FROM __sweep_${i})) __e ON __e.__seq = __s.__latest_seq`
    : "";
  return `SELECT ${outputs.join(", ")} FROM __sweep_${i} __s ${join}${join ? " ORDER BY __s.__row" : ""}`;
}
