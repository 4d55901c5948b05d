"""Feast's own SDK, unchanged, reading features from a running `larder serve`.

Makes a Feast repo whose feature_store.yaml has `online_store: type: remote` pointing at
Larder, applies definitions that mirror Larder's view and service (Feast's client resolves
features from its own registry, then asks the remote store), and prints what
`FeatureStore.get_online_features(...).to_dict()` returns, as JSON.

    python feast_remote_lookup.py <empty folder> <larder url>
"""
import json
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
from remote_repo import write_remote_repo
from feast.types import Float64, Int64, String

repo, url = Path(sys.argv[1]), sys.argv[2]
write_remote_repo(repo, url)
# Feast's file source needs a file to point at; Larder holds the real events.
pd.DataFrame({"user_id": [1], "ts": [pd.Timestamp("2026-01-01", tz="UTC")], "amount": [1.0], "category": ["a"]}).to_parquet(repo / "events.parquet")

user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
source = FileSource(name="events", path=str(repo / "events.parquet"), timestamp_field="ts")
int_features = ["count_1h", "count_1d", "amount_count_1d", "life_count"]
float_features = ["doubled", "sum_2d", "mean_7d", "min_3d", "max_3d", "stddev_7d", "last_1d", "life_sum", "life_max"]
view = FeatureView(
    name="user_stats",
    entities=[user],
    ttl=timedelta(days=3),
    schema=[Field(name="user_id", dtype=Int64), Field(name="category", dtype=String)]
    + [Field(name=n, dtype=Int64) for n in int_features]
    + [Field(name=n, dtype=Float64) for n in float_features],
    source=source,
    online=True,
)
service = FeatureService(name="all", features=[view])

store = FeatureStore(repo_path=str(repo))
store.apply([user, view, service])

rows = [{"user_id": 1}, {"user_id": 2}, {"user_id": 3}, {"user_id": 424242}]
out = {
    "service": store.get_online_features(features=store.get_feature_service("all"), entity_rows=rows).to_dict(),
    "list_full_names": store.get_online_features(
        features=["user_stats:life_count", "user_stats:mean_7d", "user_stats:category"], entity_rows=rows, full_feature_names=True
    ).to_dict(),
}
print(json.dumps(out))
