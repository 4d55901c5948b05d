"""The client against a real `larder serve` (conftest.py): values equal Larder's own
answers, training sets arrive as DataFrames equal to `larder historical`'s, pushes count
once, and refusals raise typed exceptions carrying Larder's code."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
import requests

from larder_client import BadRequestError, ForbiddenError, Larder, NotFoundError, UnauthorizedError

from .conftest import BUN, MAIN

READ, WRITE, ADMIN = "client-read-token", "client-write-token", "client-admin-token"


def raw_lookup(url: str, body: dict) -> dict:
    return requests.post(f"{url}/v1/features/online", json=body, headers={"authorization": f"Bearer {READ}"}, timeout=30).json()


def test_online_features_as_columns_and_frame(server: str) -> None:
    larder = Larder(server, token=READ)
    entities = {"user_id": [1, 2, 999_999], "merchant_id": [1, 2, 3]}
    got = larder.get_online_features(entities, service="fraud_detection")
    raw = raw_lookup(server, {"service": "fraud_detection", "entities": entities})
    assert got["user_id"] == [1, 2, 999_999]
    for name in raw["features"]:
        want = [r["values"][name] if r["statuses"][name] == "present" else None for r in raw["results"]]
        assert got[name] == want, name
    # The unknown user has no values.
    assert got["lifetime_txn_count"][2] is None
    frame = larder.get_online_features(pd.DataFrame(entities), features=["user_transactions:lifetime_txn_count"], as_frame=True, full_feature_names=True)
    assert list(frame.columns) == ["user_id", "merchant_id", "user_transactions__lifetime_txn_count"]
    assert frame["user_transactions__lifetime_txn_count"].tolist()[:2] == got["lifetime_txn_count"][:2]


def test_historical_features_equal_larder_historical(server: str, repo: Path, tmp_path: Path) -> None:
    labels = pd.read_parquet(repo / "data" / "fraud_labels.parquet").head(3000)
    labels_file = tmp_path / "labels.parquet"
    labels.to_parquet(labels_file, index=False)
    got = Larder(server, token=READ).get_historical_features(labels, service="fraud_detection")
    assert len(got) == 3000
    assert got.attrs["larder_run_id"]
    out = tmp_path / "cli.parquet"
    subprocess.run([BUN, MAIN, "historical", "--repo", str(repo), "--entities", str(labels_file), "--service", "fraud_detection", "--out", str(out)], check=True, capture_output=True)
    want = pd.read_parquet(out)
    assert list(got.columns) == list(want.columns)
    key = ["transaction_id"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True), check_dtype=False)


def test_push_counts_once_and_is_visible(server: str) -> None:
    larder = Larder(server, token=WRITE)
    user = 900_000 + uuid.uuid4().int % 10_000
    ts = pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=5)
    rows = pd.DataFrame(
        [{"transaction_id": f"client-{uuid.uuid4()}", "user_id": user, "merchant_id": 1, "amount": 12.5, "account_balance": 100.0, "ts": ts, "is_fraud": False}]
    )
    assert larder.push("transactions_push", rows) == {"rows": 1, "duplicates": 0}
    # The same event again (a retry) is skipped.
    assert larder.push("transactions_push", rows) == {"rows": 1, "duplicates": 1}
    got = Larder(server, token=READ).get_online_features({"user_id": [user]}, features=["user_transactions:lifetime_txn_count", "user_transactions:last_amount"])
    assert got["lifetime_txn_count"] == [1]
    assert got["last_amount"] == [12.5]


def test_materialize_and_registry(server: str) -> None:
    admin = Larder(server, token=ADMIN)
    results = admin.materialize(["merchant_activity"])
    assert [r["view"] for r in results] == ["merchant_activity"]
    assert admin.list_entities() == ["merchant", "user"]
    assert "fraud_scoring" in admin.list_feature_services()
    views = {v["name"]: v for v in admin.list_feature_views()}
    assert "lifetime_txn_count" in views["user_transactions"]["features"]
    assert admin.get_feature_view("user_transactions")["version"] == views["user_transactions"]["version"]


def test_refusals_raise_typed_exceptions_with_larders_code(server: str) -> None:
    with pytest.raises(UnauthorizedError) as no_token:
        Larder(server).list_entities()
    assert no_token.value.status == 401 and no_token.value.code == "unauthorized"
    with pytest.raises(ForbiddenError) as weak:
        Larder(server, token=READ).push("transactions_push", [{"user_id": 1}])
    assert weak.value.code == "forbidden"
    read = Larder(server, token=READ)
    with pytest.raises(NotFoundError) as missing:
        read.get_online_features({"user_id": [1]}, service="no_such_service")
    assert missing.value.code == "not_found" and 'feature service "no_such_service"' in missing.value.message
    with pytest.raises(BadRequestError) as bad:
        Larder(server, token=WRITE).push("transactions_push", [{"user_id": "not a number"}])
    assert bad.value.status == 400 and bad.value.code == "invalid_rows"
    with pytest.raises(NotFoundError):
        read.get_feature_view("nope")


def test_notebook_example_matches_larder_train(server: str, repo: Path) -> None:
    """examples/train_fraud_model.py: scikit-learn on the client's training set reaches the AUC `larder train` reached."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from train_fraud_model import train

    auc = train(server, str(repo / "data" / "fraud_labels.parquet"), READ)
    larder_auc = json.loads((repo / "data" / "models" / "fraud.json").read_text())["metrics"]["test"]["auc"]
    print(f"scikit-learn AUC {auc:.4f}, larder train AUC {larder_auc:.4f}")
    assert abs(auc - larder_auc) < 0.02, (auc, larder_auc)
