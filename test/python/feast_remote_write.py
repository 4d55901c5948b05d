"""Feast's own SDK, unchanged, materializing and pushing through a running `larder serve`.

Makes a Feast repo whose feature_store.yaml has `online_store: type: remote` pointing at
Larder, with a view named as Larder's whose schema is the source's columns (what Larder
computes its features from) and a push source. Then `FeatureStore.materialize(start, end)`
(Feast's remote store asks the server: POST /materialize) and `FeatureStore.push(...)`
twice with the same rows, a retry (each view's rows through POST /write-to-online-store).

    python feast_remote_write.py <empty folder> <larder url> <pushed.json> <start ms> <end ms>
"""
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, PushSource, ValueType
from feast.data_source import PushMode
from remote_repo import write_remote_repo
from feast.types import Float64, Int64, String

repo, url = Path(sys.argv[1]), sys.argv[2]
pushed = json.loads(Path(sys.argv[3]).read_text())
start, end = (datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc) for ms in sys.argv[4:6])
write_remote_repo(repo, url)


def frame(rows):
    df = pd.DataFrame(rows, columns=["user_id", "ts", "amount", "category", "event_id"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


# Feast's file source needs a file to point at; Larder holds the real events.
frame([{"user_id": 1, "ts": "2026-01-01T00:00:00Z", "amount": 1.0, "category": "a", "event_id": "-"}]).to_parquet(repo / "events.parquet")

user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
source = FileSource(name="events", path=str(repo / "events.parquet"), timestamp_field="ts")
push_source = PushSource(name="events_push", batch_source=source)
view = FeatureView(
    name="user_stats",
    entities=[user],
    ttl=timedelta(days=3),
    schema=[Field(name="user_id", dtype=Int64), Field(name="amount", dtype=Float64), Field(name="category", dtype=String), Field(name="event_id", dtype=String)],
    source=push_source,
    online=True,
)
store = FeatureStore(repo_path=str(repo))
store.apply([user, source, push_source, view])

store.materialize(start_date=start, end_date=end)
store.push("events_push", frame(pushed), to=PushMode.ONLINE)
# A retry: the same rows again, whose event ids Larder has seen.
store.push("events_push", frame(pushed), to=PushMode.ONLINE)
print(json.dumps({"ok": True}))
