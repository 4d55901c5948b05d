import type { Command } from "../command.ts";
import { trainDefaults, trainModel } from "../../model/train.ts";
import { out, table } from "../print.ts";

export const trainCommand: Command = {
  name: "train",
  summary: "train a logistic regression on a point-in-time training set, split by time (logged to MLflow when MLFLOW_TRACKING_URI is set)",
  usage: "larder train [--service fraud_scoring] [--labels data/fraud_labels.parquet] [--label is_fraud] [--baseline amount] [--test-fraction 0.2] [--name fraud]",
  options: {
    service: { type: "string" },
    labels: { type: "string" },
    label: { type: "string" },
    baseline: { type: "string" },
    "test-fraction": { type: "string" },
    name: { type: "string" },
    "timestamp-column": { type: "string" },
  },
  flagHelp: {
    service: "the feature service the model reads (default fraud_scoring)",
    labels: "the label table (default data/fraud_labels.parquet)",
    label: "the label column (default is_fraud)",
    baseline: "a single feature to compare the model with (default amount)",
    "test-fraction": "the latest share of rows, by time, held out to test (default 0.2)",
    name: "the model's name: data/models/NAME.json, served at /v1/score/NAME",
    "timestamp-column": "the label table's timestamp column",
  },
  async run(larder, flags) {
    const d = trainDefaults(larder.config.dataDir);
    const { file, model, mlflow } = await trainModel(larder, {
      service: (flags.service as string | undefined) ?? d.service,
      labels: (flags.labels as string | undefined) ?? d.labels,
      label: (flags.label as string | undefined) ?? d.label,
      baseline: (flags.baseline as string | undefined) ?? d.baseline,
      timestampColumn: (flags["timestamp-column"] as string | undefined) ?? d.timestampColumn,
      testFraction: flags["test-fraction"] === undefined ? d.testFraction : Number(flags["test-fraction"]),
      name: (flags.name as string | undefined) ?? d.name,
    });
    const m = model.metrics;
    const f = (x: number) => x.toFixed(4);
    out(`trained on ${m.train.rows} rows before ${model.trainingSet.cutoff}, tested on ${m.test.rows} after (${m.test.positives} positive)`);
    out(
      table([
        ["model", "test AUC", "precision", "recall", "flagged", "threshold"],
        [`logistic, ${model.features.length} features`, f(m.test.auc), f(m.test.precision), f(m.test.recall), m.test.flagged, f(model.threshold)],
        [`baseline: ${m.baseline.feature} alone`, f(m.baseline.test.auc), f(m.baseline.test.precision), f(m.baseline.test.recall), m.baseline.test.flagged, ""],
      ]),
    );
    out(`model → ${file} (training set ${model.trainingSet.path}, run ${model.trainingSet.runId})`);
    if (mlflow) out(`MLflow: experiment ${mlflow.experimentId}, training set run ${mlflow.trainingSetRunId}, model run ${mlflow.modelRunId}`);
  },
};
