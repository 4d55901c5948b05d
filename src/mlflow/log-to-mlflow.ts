/**
 * What Larder logs to MLflow (see mlflow-client.ts for where):
 * - a training set as a run: params naming what made it (the service, every feature ref,
 *   each view's version and its source fingerprint, the window semantics, the label
 *   table's fingerprint), its manifest and profile as artifacts, and the training set
 *   itself as the run's dataset input;
 * - a model as a run of its own: its metrics (test AUC, precision, recall; the baseline's),
 *   its parameters, the model file as an artifact, the same dataset input, and tags that
 *   link it to the training set's run. A model version registered from that run leads
 *   back, through them, to the exact feature versions and source fingerprints.
 */
import { basename } from "node:path";
import type { TrainingManifest } from "../offline/training-manifest.ts";
import type { ModelFile } from "../model/train.ts";
import type { MlflowClient, MlflowDataset, MlflowRun } from "./mlflow-client.ts";

/** The experiment runs go to: MLflow's own variable, else "larder". */
export const experimentName = (env: Record<string, string | undefined> = process.env) => env.MLFLOW_EXPERIMENT_NAME || "larder";

export type LoggedTrainingSet = { run: MlflowRun; dataset: MlflowDataset };

/** The params that pin a training set's inputs; the model's run repeats them. */
function lineageParams(m: TrainingManifest, service: string | null): Record<string, string> {
  const params: Record<string, string> = {
    "larder.run_id": m.runId,
    "larder.version": m.larder,
    window_semantics: String(m.windowSemantics),
    features: m.request.features.join(","),
    label_table: m.labels.path,
    label_fingerprint: m.labels.sha256 ?? `size ${m.labels.size}`,
    label_rows: String(m.labels.rows),
  };
  if (service) params.service = service;
  for (const v of m.views) {
    params[`feature_version.${v.view}`] = v.version;
    params[`source_fingerprint.${v.view}`] = v.fingerprint.hash;
  }
  return params;
}

/** The training set as MLflow's dataset: its file, digest (the Parquet's SHA-256) and size. */
function datasetOf(m: TrainingManifest): MlflowDataset {
  const s3 = m.output.path.startsWith("s3://");
  return {
    name: basename(m.output.path),
    // MLflow keeps at most 36 characters of a digest.
    digest: m.output.sha256.slice(0, 36),
    sourceType: s3 ? "s3" : "local",
    source: JSON.stringify({ uri: m.output.path }),
    profile: JSON.stringify({ num_rows: m.output.rows, num_columns: m.output.columns.length, columns: m.output.columns }),
  };
}

export async function logTrainingSet(
  client: MlflowClient,
  o: { manifest: TrainingManifest; manifestText: string; profileText: string | null; service: string | null; experiment?: string },
): Promise<LoggedTrainingSet> {
  const m = o.manifest;
  const experimentId = await client.experimentId(o.experiment ?? experimentName());
  const run = await client.createRun(experimentId, `training set ${m.runId}`, { "larder.kind": "training_set", "larder.run_id": m.runId });
  try {
    await client.log(run.runId, { params: { ...lineageParams(m, o.service), rows: String(m.output.rows), output: m.output.path, output_sha256: m.output.sha256 } });
    const dataset = datasetOf(m);
    await client.logDataset(run.runId, dataset, "training");
    await client.uploadArtifact(run, "training_set/manifest.json", o.manifestText);
    if (o.profileText !== null) await client.uploadArtifact(run, "training_set/profile.json", o.profileText);
    await client.finishRun(run.runId);
    return { run, dataset };
  } catch (err) {
    await client.finishRun(run.runId, "FAILED").catch(() => {});
    throw err;
  }
}

export async function logModel(client: MlflowClient, o: { model: ModelFile; modelText: string; manifest: TrainingManifest; trainingSet: LoggedTrainingSet }): Promise<MlflowRun> {
  const { model, manifest } = o;
  const run = await client.createRun(o.trainingSet.run.experimentId, `model ${model.name}`, {
    "larder.kind": "model",
    "larder.model": model.name,
    // The link to the training set's run (and its manifest, profile and dataset).
    "larder.training_set.mlflow_run_id": o.trainingSet.run.runId,
    "larder.training_set.run_id": manifest.runId,
  });
  try {
    const m = model.metrics;
    await client.log(run.runId, {
      params: {
        ...lineageParams(manifest, model.service),
        model: model.name,
        kind: model.kind,
        inputs: model.features.map((f) => f.name).join(","),
        label: model.label,
        threshold: String(model.threshold),
        test_cutoff: model.trainingSet.cutoff,
        baseline: m.baseline.feature,
      },
      metrics: {
        test_auc: m.test.auc,
        test_precision: m.test.precision,
        test_recall: m.test.recall,
        test_rows: m.test.rows,
        test_positives: m.test.positives,
        train_auc: m.train.auc,
        train_precision: m.train.precision,
        train_recall: m.train.recall,
        baseline_test_auc: m.baseline.test.auc,
        baseline_test_precision: m.baseline.test.precision,
        baseline_test_recall: m.baseline.test.recall,
      },
    });
    await client.logDataset(run.runId, o.trainingSet.dataset, "training");
    await client.uploadArtifact(run, `model/${model.name}.json`, o.modelText);
    await client.finishRun(run.runId);
    return run;
  } catch (err) {
    await client.finishRun(run.runId, "FAILED").catch(() => {});
    throw err;
  }
}
