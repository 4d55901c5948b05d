/**
 * `larder train`: a model on a point-in-time training set. Builds the set for a feature
 * service over a label table (a run, with its manifest and profile), splits it by time
 * (train on the earlier rows, test on the later ones), fits a logistic regression, picks
 * the threshold with the best F1 on the training rows, and reports test AUC, precision and
 * recall against a baseline on the raw amount alone. The model file records the service,
 * the feature versions and the training set's manifest.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BadRequestError } from "../errors.ts";
import type { Larder } from "../larder.ts";
import { ident } from "../offline/duckdb.ts";
import { auc, precisionRecall } from "./evaluate.ts";
import { z } from "zod";
import { fit, LogisticModelSchema, modelInput, predict } from "./logistic.ts";
import { MlflowClient } from "../mlflow/mlflow-client.ts";
import { logModel } from "../mlflow/log-to-mlflow.ts";
import { TrainingManifestSchema, type TrainingManifest } from "../offline/training-manifest.ts";

export type TrainOptions = { service: string; labels: string; label: string; timestampColumn: string; baseline: string; testFraction: number; name: string };

/** `larder train`'s defaults, which the fraud demo trains with: its labels are under the data folder. */
export const trainDefaults = (dataDir: string): TrainOptions => ({
  service: "fraud_scoring",
  labels: `${dataDir}/fraud_labels.parquet`,
  label: "is_fraud",
  baseline: "amount",
  timestampColumn: "event_timestamp",
  testFraction: 0.2,
  name: "fraud",
});

const MetricsSchema = z.object({ rows: z.number(), positives: z.number(), auc: z.number(), precision: z.number(), recall: z.number(), flagged: z.number() });
export type Metrics = z.infer<typeof MetricsSchema>;

/** A trained model as kept in `<data>/models/<name>.json`; checked when read back. */
export const ModelFileSchema = z.object({
  kind: z.literal("logistic"),
  name: z.string(),
  trainedAt: z.string(),
  service: z.string(),
  /** Model inputs, in order: the service's features by name, and their refs. */
  features: z.array(z.object({ name: z.string(), ref: z.string() })),
  versions: z.record(z.string(), z.string()),
  trainingSet: z.object({ path: z.string(), manifest: z.string().nullable(), runId: z.string(), cutoff: z.string() }),
  label: z.string(),
  threshold: z.number(),
  model: LogisticModelSchema,
  metrics: z.object({ train: MetricsSchema, test: MetricsSchema, baseline: z.object({ feature: z.string(), test: MetricsSchema }) }),
});
export type ModelFile = z.infer<typeof ModelFileSchema>;

export const modelPath = (dataDir: string, name: string) => join(dataDir, "models", `${name}.json`);

/** MLflow runs the training set and the model were logged as (null without MLFLOW_TRACKING_URI). */
export type MlflowRuns = { trainingSetRunId: string; modelRunId: string; experimentId: string } | null;

export async function trainModel(larder: Larder, o: TrainOptions): Promise<{ file: string; model: ModelFile; mlflow: MlflowRuns }> {
  const registry = larder.registry();
  const refs = registry.service(o.service).features;
  const out = join(dirname(modelPath(larder.config.dataDir, o.name)), `${o.name}-training.parquet`);
  mkdirSync(dirname(out), { recursive: true });
  const set = await larder.historical({ labelsPath: o.labels, refs, outPath: out, timestampColumn: o.timestampColumn });
  const names = set.columns.slice(set.columns.length - refs.length);
  const labelColumns = set.columns.slice(0, set.columns.length - refs.length);
  for (const c of [o.label, o.baseline]) if (!labelColumns.includes(c)) throw new BadRequestError(`the label table has no column "${c}" (it has ${labelColumns.join(", ")})`);
  // By column: a row object per label row costs more than the fit.
  const { rows: count, columns } = await larder.readTrainingSet(
    out,
    `epoch_ms(CAST(${ident(o.timestampColumn)} AS TIMESTAMP)) AS __t, ${ident(o.label)} AS __y, ${ident(o.baseline)} AS __b, ${names.map(ident).join(", ")}`,
    "ORDER BY __t",
  );
  const usable = names.filter((n) => columns[n]!.some((v) => modelInput(v) !== null));
  const X = Array.from({ length: count }, (_, i) => usable.map((n) => modelInput(columns[n]![i])));
  const y = columns.__y!.map((v) => (v === true || v === 1 ? 1 : 0));
  const t = columns.__t!.map(Number);
  const base = columns.__b!;
  // Train on the earlier rows, test on the later ones: no row's future leaks into training.
  const cutoff = t[Math.floor(t.length * (1 - o.testFraction))]!;
  const train = t.map((v, i) => (v < cutoff ? i : -1)).filter((i) => i >= 0);
  const test = t.map((v, i) => (v >= cutoff ? i : -1)).filter((i) => i >= 0);
  if (!train.some((i) => y[i] === 1) || !test.some((i) => y[i] === 1))
    throw new BadRequestError("both the training and the test rows need positive labels: use more data or another --test-fraction");
  const trainY = train.map((i) => y[i]!);
  const model = fit(
    usable,
    train.map((i) => X[i]!),
    trainY,
  );
  const score = (i: number) => predict(model, X[i]!);
  const trainScores = train.map(score);
  const threshold = bestF1Threshold(trainScores, trainY);
  const metrics = (idx: number[], scores: number[], th: number): Metrics => {
    const labels = idx.map((i) => y[i]!);
    return { rows: idx.length, positives: labels.filter(Boolean).length, auc: auc(scores, labels), ...precisionRecall(scores, labels, th) };
  };
  // The baseline: the same method on the raw amount alone.
  const baseModel = fit(
    [o.baseline],
    train.map((i) => [modelInput(base[i])]),
    trainY,
  );
  const baseScore = (i: number) => predict(baseModel, [modelInput(base[i])]);
  const baseThreshold = bestF1Threshold(train.map(baseScore), trainY);
  const versions: Record<string, string> = {};
  for (const r of refs) versions[r.view] = registry.versionOf(r.view);
  const file: ModelFile = {
    kind: "logistic",
    name: o.name,
    trainedAt: new Date().toISOString(),
    service: o.service,
    features: usable.map((n) => {
      const r = refs[names.indexOf(n)]!;
      return { name: n, ref: `${r.view}:${r.feature}` };
    }),
    versions,
    trainingSet: { path: out, manifest: set.manifest, runId: set.runId, cutoff: new Date(cutoff).toISOString() },
    label: o.label,
    threshold,
    model,
    metrics: {
      train: metrics(train, trainScores, threshold),
      test: metrics(test, test.map(score), threshold),
      baseline: { feature: o.baseline, test: metrics(test, test.map(baseScore), baseThreshold) },
    },
  };
  const path = modelPath(larder.config.dataDir, o.name);
  const text = `${JSON.stringify(file, null, 2)}\n`;
  writeFileSync(path, text);
  // With MLFLOW_TRACKING_URI set: the training set and the model as linked MLflow runs.
  const client = MlflowClient.fromEnv();
  if (!client || !set.manifest) return { file: path, model: file, mlflow: null };
  const trainingSet = await larder.logTrainingSetToMlflow(set.manifest, o.service);
  const manifest = await readManifestText(set.manifest);
  const run = await logModel(client, { model: file, modelText: text, manifest, trainingSet });
  return { file: path, model: file, mlflow: { trainingSetRunId: trainingSet.run.runId, modelRunId: run.runId, experimentId: run.experimentId } };
}

/** The manifest train just wrote beside its local training set. */
const readManifestText = async (path: string): Promise<TrainingManifest> => TrainingManifestSchema.parse(JSON.parse(await Bun.file(path).text()));

/** The score threshold with the best F1 on these rows (candidates: the scores themselves, up to 200 quantiles). */
function bestF1Threshold(scores: number[], labels: number[]): number {
  const sorted = [...scores].sort((a, b) => a - b);
  let best = 0.5,
    bestF1 = -1;
  for (let q = 0; q < 200; q++) {
    const th = sorted[Math.floor((q / 200) * (sorted.length - 1))]!;
    const { precision, recall } = precisionRecall(scores, labels, th);
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > bestF1) [best, bestF1] = [th, f1];
  }
  return best;
}
