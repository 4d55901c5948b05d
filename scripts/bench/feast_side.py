"""Feast's half of scripts/bench/feast-bench.ts: the same driver data in a Feast repo (local
provider: file offline store, SQLite online store), measured from inside Python (imports
and interpreter start excluded). Prints one JSON object.

    python feast_side.py setup <repo> <events.parquet> <ttl seconds>
    python feast_side.py materialize <repo> <start ISO> <end ISO>
    python feast_side.py historical <repo> <labels.parquet> <out.parquet>
"""
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64

FEATURES = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]
command, repo = sys.argv[1], Path(sys.argv[2])

if command == "setup":
    events, ttl = sys.argv[3], int(sys.argv[4])
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        f"""project: bench
registry: {repo / "registry.db"}
provider: local
online_store:
  type: sqlite
  path: {repo / "online.db"}
offline_store:
  type: file
entity_key_serialization_version: 3
"""
    )
    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    source = FileSource(name="driver_stats", path=events, timestamp_field="event_timestamp")
    view = FeatureView(
        name="driver_hourly_stats",
        entities=[driver],
        ttl=timedelta(seconds=ttl),
        schema=[Field(name="driver_id", dtype=Int64), Field(name="conv_rate", dtype=Float64), Field(name="acc_rate", dtype=Float64), Field(name="avg_daily_trips", dtype=Int64)],
        source=source,
        online=True,
    )
    FeatureStore(repo_path=str(repo)).apply([driver, view])
    print(json.dumps({"ok": True}))
elif command == "materialize":
    store = FeatureStore(repo_path=str(repo))
    start, end = datetime.fromisoformat(sys.argv[3]), datetime.fromisoformat(sys.argv[4])
    t0 = time.perf_counter()
    store.materialize(start_date=start, end_date=end)
    print(json.dumps({"seconds": time.perf_counter() - t0}))
elif command == "historical":
    store = FeatureStore(repo_path=str(repo))
    labels = pd.read_parquet(sys.argv[3])
    t0 = time.perf_counter()
    df = store.get_historical_features(entity_df=labels, features=FEATURES).to_df()
    seconds = time.perf_counter() - t0
    df.to_parquet(sys.argv[4])
    print(json.dumps({"seconds": seconds, "rows": len(df)}))
else:
    sys.exit(f"unknown command {command}")
