/**
 * Historical retrieval as a run: recorded in the run history (succeeded or failed), with
 * a manifest beside the training set it writes; and the rebuild of a training set from
 * its manifest, refusing with what changed when its inputs are not what they were.
 */
import { readFileSync } from "node:fs";
import type { Duck } from "./duckdb.ts";
import { BadRequestError, ExpectationFailedError } from "../errors.ts";
import type { ValidationReport } from "../validation/validate-batch.ts";
import type { Registry } from "../registry/registry.ts";
import type { RunDraft } from "../registry/runs.ts";
import { runDraft, validationSummary } from "../registry/run-draft.ts";
import { newRunId } from "../ids.ts";
import { isS3Url, parseS3Url } from "../storage/s3-location.ts";
import { withContentHashes } from "./content-hash.ts";
import { profileTrainingSet, saveTrainingProfile } from "../monitoring/training-profile.ts";
import { type HistoricalRequest, type HistoricalResult, TRAINING_SET_TABLE } from "./historical.ts";
import { ident } from "./duckdb.ts";
import { historicalWithOnDemand } from "./on-demand-historical.ts";
import type { OfflineContext } from "./offline-context.ts";
import { viewInputFiles } from "./offline-table.ts";
import {
  ManifestMismatchError,
  TrainingManifestSchema,
  WINDOW_SEMANTICS_VERSION,
  buildManifest,
  checkLabels,
  checkSources,
  writeManifest,
  type TrainingManifest,
} from "./training-manifest.ts";
import { parseStored } from "../storage/stored-json.ts";

/** A feature column of a training set: its type, how many rows have a value, their mean where numeric. */
export type FeatureSummary = { column: string; type: string; nonNull: number; mean: number | null };

export type TrainingResult = HistoricalResult & {
  runId: string;
  manifest: string | null;
  summary: FeatureSummary[];
  /** The rows, in label order, when the request asked for them (`collect`). */
  records?: Record<string, unknown>[];
};

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|FLOAT|DOUBLE|DECIMAL|BOOLEAN|UTINYINT|USMALLINT|UINTEGER|UBIGINT)/;

/** Per feature column: non-null count and mean (only where the column holds numbers). */
async function summarize(duck: Duck, table: string, columns: string[]): Promise<FeatureSummary[]> {
  if (columns.length === 0) return [];
  const types = new Map((await duck.describe(`SELECT * FROM ${table}`)).map((c) => [c.name, c.type]));
  const mean = (c: string) => (NUMERIC.test(types.get(c) ?? "") ? `avg(${ident(c)}::DOUBLE)` : "NULL");
  const [stats] = await duck.all(`SELECT ${columns.map((c, i) => `count(${ident(c)}) AS n${i}, ${mean(c)} AS m${i}`).join(", ")} FROM ${table}`);
  return columns.map((column, i) => ({
    column,
    type: types.get(column) ?? "",
    nonNull: Number(stats![`n${i}`]),
    mean: stats![`m${i}`] === null ? null : Number(stats![`m${i}`]),
  }));
}

/**
 * A training set as a run. The rows stay in a temp table only while this runs: callers get
 * the result (and the Parquet file, when `outPath` is given), never the table.
 */
export async function trainingSet(duck: Duck, registry: Registry, ctx: OfflineContext, req: HistoricalRequest, record: (run: RunDraft) => Promise<void>): Promise<TrainingResult> {
  try {
    return await recordedTrainingSet(duck, registry, ctx, req, record);
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${TRAINING_SET_TABLE}`);
  }
}

async function recordedTrainingSet(duck: Duck, registry: Registry, ctx: OfflineContext, req: HistoricalRequest, record: (run: RunDraft) => Promise<void>): Promise<TrainingResult> {
  const runId = newRunId();
  const started = Date.now();
  const draft = (status: RunDraft["status"], result: HistoricalResult | null, error: unknown, sources: RunDraft["sources"], labels: unknown): RunDraft => {
    const stopped = error instanceof ExpectationFailedError ? (error.report as ValidationReport) : null;
    return runDraft({
      id: runId,
      kind: "historical",
      status,
      started,
      views:
        result?.views.map((v) => ({ view: v.view, version: v.version })) ??
        [...new Set(req.refs.map((r) => r.view))].map((view) => ({ view, version: registry.viewEntry(view)?.current ?? "" })),
      sources,
      rows: { in: result?.rows ?? null, out: result?.rows ?? null },
      // The checks its views' offline tables passed when they were built (warnings included).
      validation: result
        ? (validationSummary(
            result.views.flatMap((v) => v.table.validation.checks),
            null,
          ) ?? { passed: true, failed: [], warnings: [], quarantine: null })
        : stopped
          ? validationSummary(stopped.checks, stopped)
          : null,
      details: { labels, out: req.outPath ?? null, features: req.refs.map((r) => `${r.view}:${r.feature}`), columns: result?.columns ?? null },
      error: error ? (error as Error).message : null,
    });
  };
  let result: HistoricalResult;
  try {
    result = await historicalWithOnDemand(duck, registry, ctx, req);
  } catch (err) {
    await record(draft("failed", null, err, [], { path: req.labelsPath }));
    throw err;
  }
  const manifest = req.outPath ? await buildManifest(runId, { ...req, outPath: req.outPath }, result) : null;
  // A saved training set's profile: the reference drift is measured against (monitoring/).
  if (manifest) {
    const featureColumns = result.columns.slice(result.columns.length - req.refs.length).map((column, i) => ({ column, ref: req.refs[i]! }));
    manifest.profile = await saveTrainingProfile(ctx.files, await profileTrainingSet(duck, TRAINING_SET_TABLE, featureColumns, runId));
  }
  const labels = manifest?.labels ?? (await withContentHashes([result.labels]))[0];
  const sources = manifest
    ? manifest.views.map((v) => ({ source: registry.view(v.view).source.name, files: v.fingerprint.files, rows: v.rows }))
    : await Promise.all(
        result.views.map(async (v) => ({ source: registry.view(v.view).source.name, files: await withContentHashes(v.table.fingerprint.files), rows: v.table.rows })),
      );
  const path = manifest ? await writeManifest(ctx, req.outPath!, manifest) : null;
  const summary = await summarize(duck, TRAINING_SET_TABLE, result.columns.slice(result.columns.length - req.refs.length));
  await record(draft("succeeded", result, null, sources, labels));
  const records = req.collect ? await duck.all(`SELECT * FROM ${TRAINING_SET_TABLE}`) : undefined;
  return { ...result, runId, manifest: path, summary, ...(records ? { records } : {}) };
}

/** Reads a manifest (a local path or s3:// address). */
export async function readManifest(ctx: OfflineContext, path: string): Promise<TrainingManifest> {
  let text: string | null;
  if (isS3Url(path)) {
    const { bucket, key } = parseS3Url(path);
    text = await ctx.storage.s3.readText(bucket, key);
  } else {
    try {
      text = readFileSync(path, "utf8");
    } catch {
      text = null;
    }
  }
  if (text === null) throw new BadRequestError(`manifest ${path} does not exist`);
  return parseStored(
    text,
    TrainingManifestSchema,
    `training-set manifest ${path}`,
    "give the manifest written beside the training set (<out>.manifest.json), or build the set again with larder historical --out",
  );
}

/**
 * Rebuilds a training set from its manifest into `out` (default: where it was written).
 * Refuses, naming what changed, when the window semantics, a view's version, the label
 * table or a source's files are not what the manifest recorded.
 */
export async function rebuildFromManifest(
  duck: Duck,
  registry: Registry,
  ctx: OfflineContext,
  manifestFile: string,
  out: string | undefined,
  record: (run: RunDraft) => Promise<void>,
): Promise<TrainingResult & { identical: boolean; expectedSha256: string }> {
  const m = await readManifest(ctx, manifestFile);
  if (m.windowSemantics !== WINDOW_SEMANTICS_VERSION) {
    throw new ManifestMismatchError(`the manifest was built with window semantics ${m.windowSemantics}; this Larder has ${WINDOW_SEMANTICS_VERSION}: the numbers would differ`);
  }
  const changes: string[] = [];
  for (const v of m.views) {
    const entry = registry.viewEntry(v.view);
    if (!entry) {
      changes.push(`feature view "${v.view}" is no longer applied`);
      continue;
    }
    if (entry.current !== v.version) {
      changes.push(
        `feature view "${v.view}" is now @${entry.current}; the manifest used @${v.version}${entry.versions.some((x) => x.version === v.version) ? " (apply that definition again to rebuild)" : ""}`,
      );
      continue;
    }
    changes.push(...(await checkSources(v.view, v.fingerprint, (await viewInputFiles(duck, registry.view(v.view), ctx)).fingerprint)));
  }
  try {
    await checkLabels(ctx, m);
  } catch (err) {
    if (!(err instanceof ManifestMismatchError)) throw err;
    changes.push(err.message);
  }
  if (changes.length) throw new ManifestMismatchError(`cannot rebuild ${m.output.path} as it was; since its manifest:\n${changes.map((c) => `  ${c}`).join("\n")}`);
  const refs = m.request.features.map((f) => ({ view: f.slice(0, f.indexOf(":")), feature: f.slice(f.indexOf(":") + 1) }));
  const result = await trainingSet(
    duck,
    registry,
    ctx,
    {
      labelsPath: m.labels.path,
      refs,
      timestampColumn: m.request.timestampColumn ?? undefined,
      fullNames: m.request.fullNames,
      outPath: out ?? m.output.path,
    },
    record,
  );
  return { ...result, identical: result.outputSha256 === m.output.sha256, expectedSha256: m.output.sha256 };
}
