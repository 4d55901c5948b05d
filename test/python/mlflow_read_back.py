"""Reads back, with MLflow's own Python client, what Larder logged for a model: its run, the
training set's run it links to (params, artifacts, dataset input), then registers a model
version from the model run and follows it back to the feature versions and source
fingerprints. Prints JSON.

    python mlflow_read_back.py <tracking uri> <model run id> <registered model name>
"""
import json
import sys
import tempfile
from pathlib import Path

from mlflow.tracking import MlflowClient

uri, model_run_id, name = sys.argv[1:4]
client = MlflowClient(tracking_uri=uri)

model_run = client.get_run(model_run_id)
training_run = client.get_run(model_run.data.tags["larder.training_set.mlflow_run_id"])

with tempfile.TemporaryDirectory() as d:
    manifest = json.loads(Path(client.download_artifacts(training_run.info.run_id, "training_set/manifest.json", d)).read_text())
    profile = json.loads(Path(client.download_artifacts(training_run.info.run_id, "training_set/profile.json", d)).read_text())
    model_file = json.loads(Path(client.download_artifacts(model_run_id, f"model/{model_run.data.params['model']}.json", d)).read_text())


def inputs(run):
    return [
        {"name": i.dataset.name, "digest": i.dataset.digest, "source_type": i.dataset.source_type, "source": json.loads(i.dataset.source), "context": {t.key: t.value for t in i.tags}.get("mlflow.data.context")}
        for i in run.inputs.dataset_inputs
    ]


# Registered from the model run, then followed back to what made its training set.
client.create_registered_model(name)
version = client.create_model_version(name, source=f"{model_run.info.artifact_uri}/model", run_id=model_run_id)
traced_run = client.get_run(client.get_model_version(name, version.version).run_id)
traced_training = client.get_run(traced_run.data.tags["larder.training_set.mlflow_run_id"])

print(
    json.dumps(
        {
            "model": {"status": model_run.info.status, "params": model_run.data.params, "metrics": model_run.data.metrics, "tags": {k: v for k, v in model_run.data.tags.items() if k.startswith("larder.")}, "inputs": inputs(model_run)},
            "training_set": {"status": training_run.info.status, "name": training_run.info.run_name, "params": training_run.data.params, "inputs": inputs(training_run)},
            "artifacts": {"manifest_run_id": manifest["runId"], "profile_run_id": profile["runId"], "model_threshold": model_file["threshold"]},
            "registered": {"version": version.version, "run_id": traced_run.info.run_id, "feature_versions": {k: v for k, v in traced_training.data.params.items() if k.startswith("feature_version.")}, "source_fingerprints": {k: v for k, v in traced_training.data.params.items() if k.startswith("source_fingerprint.")}},
        }
    )
)
