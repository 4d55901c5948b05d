/**
 * A view's offline table: one row per source event, with the entity keys, the event
 * time (`__ts`, epoch ms), its order in the source (`__seq`, breaks ties between events
 * at the same instant: the later row wins), every latest-value feature computed, and
 * every aggregation input (`__in_<i>`, DOUBLE), and `__online` (a pushed row already applied
 * online; see pushed-segments.ts), sorted by (keys, __ts, __seq). Written as Parquet under
 * `offline/<view>/<version>/` in the offline file store, rebuilt only when its inputs change.
 * Historical retrieval and materialization both read it.
 */
import { z } from "zod";
import type { Duck } from "./duckdb.ts";
import { ident, literal } from "./duckdb.ts";
import type { ResolvedView } from "../registry/registry.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { viewInputSql } from "./source-sql.ts";
import { sourceFiles, type SourceFile, type SourceFingerprint } from "./source-fingerprint.ts";
import { pushedSegments } from "./pushed-segments.ts";
import type { OfflineContext } from "./offline-context.ts";
import { OfflineError } from "../errors.ts";
import { rmSync } from "node:fs";
import { INSTANT_RANGE, inInstantRange } from "../time.ts";
import { hashOf } from "../ids.ts";
import { ExpectationFailedError } from "../errors.ts";
import { buildWithSpark } from "./spark/spark-offline-table.ts";
import { failureMessage, validateBatch } from "../validation/validate-batch.ts";
import { viewBatchChecks } from "../validation/view-checks.ts";

/** Bumped when the table's columns or their meaning change, so old builds are redone. */
const OFFLINE_TABLE_FORMAT = 7;

const StoredFileSchema = z.object({ path: z.string(), size: z.number(), mtimeMs: z.number().optional(), etag: z.string().optional() });

/** The table's metadata as kept in `_table.json` beside it; checked when read back. */
const StoredOfflineTableSchema = z.object({
  format: z.number(),
  view: z.string(),
  version: z.string(),
  /** The Parquet file's key in the offline file store. */
  key: z.string(),
  /** The expectations its input passed (warnings included) when it was built. */
  validation: z.object({
    passed: z.boolean(),
    rows: z.number(),
    checks: z.array(
      z.object({ rule: z.string(), target: z.string(), column: z.string().nullable(), severity: z.enum(["error", "warn"]), passed: z.boolean(), message: z.string() }),
    ),
  }),
  fingerprint: z.object({ files: z.array(StoredFileSchema), hash: z.string() }),
  rows: z.number(),
  minTs: z.number().nullable(),
  maxTs: z.number().nullable(),
  builtAt: z.string(),
  /** The engine that built it (tables built before engines were named: DuckDB). */
  engine: z.enum(["duckdb", "spark"]).default("duckdb"),
});

/** `path`: a local path holding the table, for DuckDB (not saved in the metadata). */
export type OfflineTable = z.infer<typeof StoredOfflineTableSchema> & { path: string };

export const inputColumn = (i: number) => `__in_${i}`;

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * A view's events as columns, from a relation with the source's typed columns and a row
 * order (`seq`): the keys, `__ts`, `__seq`, the latest-value expressions and the
 * aggregation inputs. Batch (offline tables) and streaming (pushes) both use it.
 */
export function eventColumnsSql(v: ResolvedView, seq: string): string {
  return [`epoch_ms(${ident(v.source.timestampField)}) AS __ts`, `${seq} AS __seq`, viewColumnsSql(v)].join(", ");
}

/**
 * The keys, latest-value expressions and aggregation inputs of a view's events; with a
 * `prefix`, named `<prefix>k<i>`, `<prefix>e<i>`, `<prefix>i<i>` instead, so several views'
 * columns fit in one query (pushes compute every view over a push source at once).
 */
export function viewColumnsSql(v: ResolvedView, prefix?: string): string {
  const layout = viewLayout(v.def);
  const name = (plain: string, short: string) => ident(prefix === undefined ? plain : prefix + short);
  return [
    ...v.entity.joinKeys.map((k, i) => `${ident(k.name)} AS ${name(k.name, `k${i}`)}`),
    ...layout.expressions.map((e, i) => `(${e.sql}) AS ${name(e.name, `e${i}`)}`),
    // NaN counts as missing, like NULL, on every path.
    ...layout.inputs.map((sql, i) => `nullif(CAST((${sql}) AS DOUBLE), 'nan'::DOUBLE) AS ${name(inputColumn(i), `i${i}`)}`),
  ].join(", ");
}

/** What a view's offline table is built from: the source's files, and pushed segments for a push source. */
export async function viewInputFiles(duck: Duck, v: ResolvedView, ctx: OfflineContext): Promise<{ files: SourceFile[]; segments: SourceFile[]; fingerprint: SourceFingerprint }> {
  // A push source may have no batch files yet: its rows may all arrive by push.
  let files: SourceFile[] = [];
  try {
    files = await sourceFiles(duck, v.source, ctx);
  } catch (err) {
    if (!v.push || !(err instanceof OfflineError)) throw err;
  }
  const segments = v.push ? await pushedSegments(ctx.files, v.push.name) : [];
  const all = [...files, ...segments];
  return { files, segments, fingerprint: { files: all, hash: hashOf({ files: all, dedupe: v.push?.eventIdField ?? null }) } };
}

/**
 * The view's offline table, built when its inputs changed since the last build. Kept in
 * the offline file store (`offline/<view>/<version>/`: a manifest and one Parquet file);
 * `path` is a local copy DuckDB reads.
 */
export async function ensureOfflineTable(duck: Duck, v: ResolvedView, ctx: OfflineContext): Promise<OfflineTable> {
  const folder = `offline/${v.def.name}/${v.version}`;
  const manifestKey = `${folder}/_table.json`;
  const { files, segments, fingerprint } = await viewInputFiles(duck, v, ctx);
  // Metadata that is damaged is as good as none: the table is built again.
  const current = await ctx.files.readText(manifestKey).then((text) => (text === null ? null : (StoredOfflineTableSchema.safeParse(safeJson(text)).data ?? null)));
  if (current) {
    if (current.format === OFFLINE_TABLE_FORMAT && current.fingerprint.hash === fingerprint.hash) {
      const stored = (await ctx.files.list(folder)).find((f) => f.path === ctx.files.pathOf(current.key));
      if (stored) return { ...current, path: await ctx.files.readable(stored) };
    }
  }
  const key = `${folder}/events-${fingerprint.hash}.parquet`;
  const staged = ctx.files.staging(key);
  const readable = async (list: SourceFile[]) => Promise.all(list.map((f) => ctx.storage.readable(f)));
  const [local, localSegments] = [await readable(files), await readable(segments)];
  const built = ctx.spark
    ? await buildWithSpark(ctx.spark, ctx.dataDir, v, local, localSegments, staged, hasExpectations(v) ? () => checkExpectations(duck, v, ctx, local, localSegments) : null)
    : await buildWithDuckDB(duck, v, ctx, local, localSegments, staged);
  const { stats, validation } = built;
  // Times Larder serves and answers with stay in 0001–9999 (time.ts), whatever a source holds.
  if ((stats.lo !== null && !inInstantRange(Number(stats.lo))) || (stats.hi !== null && !inInstantRange(Number(stats.hi)))) {
    rmSync(staged, { force: true });
    throw new OfflineError(
      `source "${v.source.name}" has events timed outside the years 0001–9999 (earliest ${stats.lo}, latest ${stats.hi} in epoch ms; times must run ${INSTANT_RANGE}): fix or filter those rows`,
    );
  }
  const stored = await ctx.files.put(key, staged);
  const table: Omit<OfflineTable, "path"> = {
    format: OFFLINE_TABLE_FORMAT,
    view: v.def.name,
    version: v.version,
    key,
    fingerprint,
    rows: stats.n,
    minTs: stats.lo,
    maxTs: stats.hi,
    engine: ctx.spark ? "spark" : "duckdb",
    builtAt: new Date().toISOString(),
    validation: {
      passed: true,
      rows: validation.rows,
      checks: validation.checks.map(({ rule, target, column, severity, passed, message }) => ({ rule, target, column, severity, passed, message })),
    },
  };
  await ctx.files.writeText(manifestKey, JSON.stringify(table, null, 2));
  // Older builds of this version are superseded.
  for (const f of await ctx.files.list(folder)) {
    if (f.path !== stored.path && /\/events-[^/]+\.parquet$/.test(f.path)) await ctx.files.remove(`${folder}/${f.path.slice(f.path.lastIndexOf("/") + 1)}`);
  }
  return { ...table, path: await ctx.files.readable(stored) };
}

/** What a build leaves: the table staged as Parquet, its counts, the expectations' verdict. */
export type BuiltOfflineTable = {
  stats: { n: number; lo: number | null; hi: number | null };
  validation: Awaited<ReturnType<typeof validateBatch>>;
};

/** Whether the view or its source declares expectations (beyond the schema every source has). */
const hasExpectations = (v: ResolvedView) => v.source.expectations.length > 0 || (v.def.expectations ?? []).length > 0;

/**
 * Stages the view's input as `__source` and checks it: the schema and every expectation.
 * A failing batch writes no table (and so nothing online). `keep`: leave `__source` for the build.
 */
async function checkInput(duck: Duck, v: ResolvedView, ctx: OfflineContext, files: string[], segments: string[], keep: boolean) {
  // rowid of a table filled from the source in one statement is the source's row order
  // (DuckDB preserves insertion order), which makes ties between equal timestamps stable.
  await duck.run(`CREATE OR REPLACE TEMP TABLE __source AS ${viewInputSql(v.source, files, segments)}`);
  const validation = await validateBatch(duck, viewBatchChecks(v, ctx));
  if (!validation.passed || !keep) await duck.run("DROP TABLE __source");
  if (!validation.passed) {
    throw new ExpectationFailedError(failureMessage(`feature view "${v.def.name}" (source "${v.source.name}")`, validation), validation);
  }
  return validation;
}

/** Expectations checked by DuckDB for a table another engine builds. */
const checkExpectations = (duck: Duck, v: ResolvedView, ctx: OfflineContext, files: string[], segments: string[]) => checkInput(duck, v, ctx, files, segments, false);

/** Builds the table with DuckDB into `staged`: checked, typed, deduplicated, sorted. */
async function buildWithDuckDB(duck: Duck, v: ResolvedView, ctx: OfflineContext, files: string[], segments: string[], staged: string): Promise<BuiltOfflineTable> {
  const keys = v.entity.joinKeys.map((k) => ident(k.name));
  const ts = ident(v.source.timestampField);
  const validation = await checkInput(duck, v, ctx, files, segments, true);
  const select = `${eventColumnsSql(v, "rowid")}, __online`;
  let notNull = [...keys, ts].map((c) => `${c} IS NOT NULL`).join(" AND ");
  // An event pushed twice (a redelivery) counts once: its first row stands.
  const id = v.push?.eventIdField;
  if (id) notNull += ` AND (${ident(id)} IS NULL OR rowid IN (SELECT min(rowid) FROM __source GROUP BY ${ident(id)}))`;
  // Sorted by entity, then time: historical retrieval reads it in this order without a sort.
  await duck.run(`COPY (SELECT ${select} FROM __source WHERE ${notNull} ORDER BY ${keys.join(", ")}, __ts, __seq) TO ${literal(staged)} (FORMAT parquet, COMPRESSION snappy)`);
  const [stats] = await duck.all<{ n: number; lo: number | null; hi: number | null }>(
    `SELECT count(*) AS n, epoch_ms(min(${ts})) AS lo, epoch_ms(max(${ts})) AS hi FROM __source WHERE ${notNull}`,
  );
  await duck.run("DROP TABLE __source");
  return { stats: stats!, validation };
}
