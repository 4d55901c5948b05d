"""The fraud demo's model, trained the way a data scientist would in a notebook: the
training set from Larder's client as a pandas DataFrame, then scikit-learn.

    python train_fraud_model.py http://127.0.0.1:6566 <repo>/data/fraud_labels.parquet [token]

Same recipe as `larder train`: the `fraud_scoring` service (stored and on-demand features,
point-in-time correct), the earlier 80 % of rows by time to train, the later 20 % to test,
missing values as the training mean, standardized inputs, L2-penalized logistic regression.
Prints the test AUC.
"""
from __future__ import annotations

import sys
from typing import Optional

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from larder_client import Larder


def train(url: str, labels_path: str, token: Optional[str] = None) -> float:
    larder = Larder(url, token=token)
    labels = pd.read_parquet(labels_path)
    training = larder.get_historical_features(labels, service="fraud_scoring")

    # The service's features are the columns Larder added to the label table.
    features = [c for c in training.columns if c not in labels.columns]
    X = training[features].astype("float64")
    X = X.loc[:, X.notna().any()]  # a feature with no value at all says nothing
    y = training["is_fraud"].astype(int).to_numpy()

    # Split by time: no test row's future leaks into training.
    order = training["event_timestamp"].argsort(kind="stable").to_numpy()
    X, y, times = X.iloc[order], y[order], training["event_timestamp"].to_numpy()[order]
    cutoff = times[int(len(times) * 0.8)]
    train_rows, test_rows = times < cutoff, times >= cutoff

    means = X[train_rows].mean()
    scales = X[train_rows].std(ddof=0).replace(0, 1)
    Z = ((X.fillna(means) - means) / scales).to_numpy()
    # Larder's penalty is 1 on the sum of squared weights (½‖w‖² · 2); scikit-learn's C is its inverse.
    model = LogisticRegression(C=1.0, max_iter=1000).fit(Z[train_rows], y[train_rows])
    return float(roc_auc_score(y[test_rows], model.predict_proba(Z[test_rows])[:, 1]))


if __name__ == "__main__":
    auc = train(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(f"test AUC {auc:.4f}")
