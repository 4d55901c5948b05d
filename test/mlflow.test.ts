/**
 * MLflow tracking against a real `mlflow server` (MLflow from PyPI in .venvs/mlflow):
 * `larder train` logs the training set and the model as linked runs, and MLflow's own
 * Python client reads back their params, metrics, artifacts and dataset inputs, registers a
 * model version from the model run and follows it back to the feature versions and source
 * fingerprints of the training set's manifest; `larder historical --mlflow` logs a training
 * set; MLflow's REST API answers the same; refusals say what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SKIP } from "./helpers/needs.ts";
import { MLFLOW_PYTHON, startMlflow, type MlflowServer } from "./helpers/mlflow-server.ts";
import { pythonJson, runToEnd } from "./helpers/run-python.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "larder-mlflow-repo-"));
let mlflow: MlflowServer | null = null;
beforeAll(async () => {
  if (SKIP.mlflow) return;
  mlflow = await startMlflow();
  // The fraud demo's repo and data, without a model yet (--no-serve; MLflow not set here).
  const demo = Bun.spawnSync([process.execPath, MAIN, "demo", "--no-serve", "--users", "400", "--repo", dir], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MLFLOW_TRACKING_URI: "" },
  });
  if (demo.exitCode !== 0) throw new Error(`demo failed: ${demo.stderr.toString()}`);
}, 180_000);
afterAll(async () => {
  await mlflow?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function larder(args: string[], env: Record<string, string> = {}) {
  return runToEnd([process.execPath, MAIN, ...args, "--repo", dir], { env: { ...process.env, MLFLOW_TRACKING_URI: mlflow?.url ?? "", ...env } });
}

type Manifest = {
  runId: string;
  windowSemantics: number;
  labels: { sha256: string };
  views: { view: string; version: string; fingerprint: { hash: string } }[];
  output: { path: string; sha256: string };
};

describe("MLflow tracking", () => {
  test.skipIf(SKIP.mlflow)(
    "larder train logs linked runs; MLflow's client reads them back and traces a registered model to its feature versions",
    async () => {
      const train = await larder(["train"]);
      expect(train.code).toBe(0);
      const [, experiment, trainingRunId, modelRunId] = /MLflow: experiment (\S+), training set run (\S+), model run (\S+)/.exec(train.stdout) ?? [];
      expect(modelRunId).toBeDefined();

      const model = JSON.parse(readFileSync(join(dir, "data/models/fraud.json"), "utf8")) as {
        threshold: number;
        metrics: { test: { auc: number; precision: number; recall: number } };
        trainingSet: { manifest: string };
      };
      const manifest = JSON.parse(readFileSync(model.trainingSet.manifest, "utf8")) as Manifest;

      const back = await pythonJson<any>(MLFLOW_PYTHON, "mlflow_read_back.py", [mlflow!.url, modelRunId!, "fraud"], "MLflow's client");

      const versions = Object.fromEntries(manifest.views.map((v) => [`feature_version.${v.view}`, v.version]));
      const fingerprints = Object.fromEntries(manifest.views.map((v) => [`source_fingerprint.${v.view}`, v.fingerprint.hash]));
      const dataset = {
        name: "fraud-training.parquet",
        digest: manifest.output.sha256.slice(0, 36),
        source_type: "local",
        source: { uri: manifest.output.path },
        context: "training",
      };
      expect(back.training_set.status).toBe("FINISHED");
      expect(back.training_set.name).toBe(`training set ${manifest.runId}`);
      expect(back.training_set.params).toMatchObject({
        ...versions,
        ...fingerprints,
        service: "fraud_scoring",
        window_semantics: String(manifest.windowSemantics),
        label_fingerprint: manifest.labels.sha256,
        "larder.run_id": manifest.runId,
        output_sha256: manifest.output.sha256,
      });
      expect(back.training_set.inputs).toEqual([dataset]);

      expect(back.model.status).toBe("FINISHED");
      expect(back.model.metrics).toMatchObject({ test_auc: model.metrics.test.auc, test_precision: model.metrics.test.precision, test_recall: model.metrics.test.recall });
      expect(back.model.params).toMatchObject({ ...versions, ...fingerprints, model: "fraud", threshold: String(model.threshold) });
      expect(back.model.tags).toMatchObject({ "larder.training_set.mlflow_run_id": trainingRunId, "larder.training_set.run_id": manifest.runId, "larder.kind": "model" });
      expect(back.model.inputs).toEqual([dataset]);
      expect(back.artifacts).toEqual({ manifest_run_id: manifest.runId, profile_run_id: manifest.runId, model_threshold: model.threshold });
      // A registered version leads back to the exact feature versions and source fingerprints.
      expect(back.registered).toEqual({ version: "1", run_id: modelRunId, feature_versions: versions, source_fingerprints: fingerprints });

      // MLflow's REST API answers the same.
      const rest = (await (await fetch(`${mlflow!.url}/api/2.0/mlflow/runs/get?run_id=${modelRunId}`)).json()) as {
        run: { info: { experiment_id: string }; data: { metrics: { key: string; value: number }[] } };
      };
      expect(rest.run.info.experiment_id).toBe(experiment!);
      expect(rest.run.data.metrics.find((m) => m.key === "test_auc")!.value).toBe(model.metrics.test.auc);
    },
    180_000,
  );

  test.skipIf(SKIP.mlflow)(
    "larder historical --mlflow logs a training set; it refuses without --out, without a tracking server, or one it cannot reach",
    async () => {
      const labels = join(dir, "data/fraud_labels.parquet");
      const out = join(dir, "data/set.parquet");
      const ok = await larder(["historical", "--entities", labels, "--service", "fraud_detection", "--out", out, "--mlflow"], { MLFLOW_EXPERIMENT_NAME: "sets" });
      expect(ok.code).toBe(0);
      const runId = /MLflow: run (\S+) in experiment/.exec(ok.stdout)![1]!;
      const run = (await (await fetch(`${mlflow!.url}/api/2.0/mlflow/runs/get?run_id=${runId}`)).json()) as {
        run: { info: { status: string; experiment_id: string }; data: { params: { key: string; value: string }[] }; inputs: { dataset_inputs: { dataset: { name: string } }[] } };
      };
      const exp = (await (await fetch(`${mlflow!.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=sets`)).json()) as { experiment: { experiment_id: string } };
      expect(run.run.info).toMatchObject({ status: "FINISHED", experiment_id: exp.experiment.experiment_id });
      expect(run.run.data.params.find((p) => p.key === "service")!.value).toBe("fraud_detection");
      expect(run.run.inputs.dataset_inputs.map((d) => d.dataset.name)).toEqual(["set.parquet"]);

      const noOut = await larder(["historical", "--entities", labels, "--service", "fraud_detection", "--mlflow"]);
      expect([noOut.code, noOut.stderr.trim()]).toEqual([2, "larder historical: --mlflow logs the training set written with --out (its manifest and file): give --out"]);
      const noServer = await larder(["historical", "--entities", labels, "--service", "fraud_detection", "--out", out, "--mlflow"], { MLFLOW_TRACKING_URI: "" });
      expect([noServer.code, noServer.stderr.trim()]).toEqual([
        2,
        "larder historical: --mlflow needs MLFLOW_TRACKING_URI: the MLflow tracking server's address (http://host:5000)",
      ]);
      const away = await larder(["historical", "--entities", labels, "--service", "fraud_detection", "--out", out, "--mlflow"], { MLFLOW_TRACKING_URI: "http://127.0.0.1:9" });
      expect(away.code).not.toBe(0);
      expect(away.stderr).toContain("larder historical: MLflow tracking server http://127.0.0.1:9 cannot be reached");
    },
    120_000,
  );
});
