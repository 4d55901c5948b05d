"""The classic pandas feature pipeline, timed from CSV to training set.

Per user: a cumulative mean of `amount` (groupby/transform, excluding the current row), a
7-day time-window mean (groupby + rolling("7D", closed="left")), the ratio
amount / (account_balance + 1); then merge_asof onto the labels (the latest transaction
strictly before each label). Prints one JSON line: seconds and row counts.
"""
import json
import sys
import time

import pandas as pd

tx_path, labels_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
tx = pd.read_csv(tx_path, parse_dates=["ts"])
labels = pd.read_csv(labels_path, parse_dates=["event_timestamp"])
tx = tx.sort_values(["user_id", "ts"], kind="stable").reset_index(drop=True)
g = tx.groupby("user_id")["amount"]
tx["mean_amount_lifetime"] = g.transform(lambda s: s.shift().expanding().mean())
rolled = tx.set_index("ts").groupby("user_id")["amount"].rolling("7D", closed="left").mean()
tx["mean_amount_7d"] = rolled.to_numpy()  # same (user_id, ts) order as tx
tx["transaction_ratio"] = tx["amount"] / (tx["account_balance"] + 1)
features = tx[["user_id", "ts", "mean_amount_lifetime", "mean_amount_7d", "transaction_ratio"]].sort_values("ts", kind="stable")
training = pd.merge_asof(
    labels.sort_values("event_timestamp", kind="stable"), features,
    left_on="event_timestamp", right_on="ts", by="user_id", direction="backward", allow_exact_matches=False,
)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "rows": len(training), "non_null_7d": int(training["mean_amount_7d"].notna().sum())}))
