/**
 * A training set's profile, saved with it (`profiles/training/<run>.json` in the offline
 * store): per feature the same shape as a materialization's (feature-profile.ts), computed
 * in DuckDB over the whole set, so drift can be measured against what a model learned from.
 */
import { z } from "zod";
import type { FeatureRef } from "../definitions/types.ts";
import { type Duck, ident } from "../offline/duckdb.ts";
import { readStoredJson, type FileStore } from "../storage/file-store.ts";
import { FeatureProfileSchema, KEPT_VALUES, orderPositions } from "./feature-profile.ts";

const TrainingProfileSchema = z.object({
  runId: z.string(),
  at: z.string(),
  rows: z.number(),
  features: z.array(z.intersection(FeatureProfileSchema, z.object({ view: z.string() }))),
});
export type TrainingProfile = z.infer<typeof TrainingProfileSchema>;

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;

export async function profileTrainingSet(duck: Duck, table: string, columns: { column: string; ref: FeatureRef }[], runId: string): Promise<TrainingProfile> {
  const types = new Map((await duck.describe(`SELECT * FROM ${table}`)).map((c) => [c.name, c.type]));
  const features: TrainingProfile["features"] = [];
  let rows = 0;
  for (const { column, ref } of columns) {
    const c = ident(column);
    if (NUMERIC.test(types.get(column) ?? "")) {
      const presentRows = `FROM ${table} WHERE ${c} IS NOT NULL AND NOT isnan(${c}::DOUBLE)`;
      const [r] = await duck.all<{ n: number; present: number; mean: number | null; sd: number | null }>(
        `SELECT count(*) AS n, count(${c}) AS present, avg(${c}::DOUBLE) AS mean, stddev_samp(${c}::DOUBLE) AS sd FROM ${table} WHERE ${c} IS NULL OR NOT isnan(${c}::DOUBLE)`,
      );
      // The materialization profile's sample (orderStatistics' positions), picked
      // from one sort. quantile_disc at KEPT_VALUES positions costs a pass per position;
      // a list aggregate's sort, twice this one's.
      // row_number() counts from 1.
      const positions = orderPositions(Number(r!.present), KEPT_VALUES).map((i) => i + 1);
      const picked = positions.length
        ? await duck.all<{ x: number }>(
            `SELECT x FROM (SELECT ${c}::DOUBLE AS x, row_number() OVER (ORDER BY ${c}::DOUBLE) AS r ${presentRows}) WHERE r IN (SELECT unnest([${positions.join(", ")}])) ORDER BY r`,
          )
        : [];
      rows = Number(r!.n);
      const sample = picked.map((p) => Number(p.x));
      const pick = (p: number) => sample[Math.round(p * (sample.length - 1))]!;
      features.push({
        view: ref.view,
        feature: ref.feature,
        kind: "numeric",
        count: Number(r!.n),
        nulls: Number(r!.n) - Number(r!.present),
        mean: r!.mean === null ? null : Number(r!.mean),
        stddev: r!.sd === null ? null : Number(r!.sd),
        quantiles: sample.length ? Object.fromEntries([0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1].map((p) => [`p${p * 100}`, pick(p)])) : {},
        histogram: { edges: [], counts: [] },
        sample,
      });
    } else {
      const top = await duck.all<{ v: string; n: number }>(
        `SELECT CAST(${c} AS VARCHAR) AS v, count(*) AS n FROM ${table} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`,
      );
      const [r] = await duck.all<{ n: number; present: number }>(`SELECT count(*) AS n, count(${c}) AS present FROM ${table}`);
      rows = Number(r!.n);
      features.push({
        view: ref.view,
        feature: ref.feature,
        kind: "categorical",
        count: Number(r!.n),
        nulls: Number(r!.n) - Number(r!.present),
        top: top.map((t) => ({ value: t.v, count: Number(t.n) })),
      });
    }
  }
  return { runId, at: new Date().toISOString(), rows, features };
}

export const trainingProfileKey = (runId: string) => `profiles/training/${runId}.json`;

/** The profile saved with a training set, or null. */
export const loadTrainingProfile = (files: FileStore, runId: string) =>
  readStoredJson(
    files,
    trainingProfileKey(runId),
    TrainingProfileSchema,
    "the training-set profile",
    "remove it and build the training set again with larder historical --out, or compare against another --reference",
  );

export async function saveTrainingProfile(files: FileStore, profile: TrainingProfile): Promise<string> {
  await files.writeText(trainingProfileKey(profile.runId), JSON.stringify(profile, null, 2));
  return files.pathOf(trainingProfileKey(profile.runId));
}
