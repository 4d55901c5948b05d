"""`Larder(url, token)`: a running `larder serve` from Python.

    from larder_client import Larder
    larder = Larder("http://127.0.0.1:6566", token="...")
    larder.get_online_features(service="fraud_detection", entities={"user_id": [1, 2], "merchant_id": [7, 9]})
    training = larder.get_historical_features(labels_df, service="fraud_scoring")   # pandas DataFrame

Training sets travel as Parquet both ways (POST /v1/features/historical), never as JSON rows.
"""
from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import pandas as pd
import requests

from .errors import LarderError, error_for

Entities = Union[Mapping[str, Sequence[Any]], pd.DataFrame, Sequence[Mapping[str, Any]]]
PARQUET = "application/vnd.apache.parquet"
#: Rows per push: Larder's default LARDER_MAX_PUSH_ROWS.
PUSH_BATCH = 10_000


def _columns(entities: Entities) -> Dict[str, List[Any]]:
    """Entities as columns (join key → values): a dict of lists, a DataFrame or a list of row dicts."""
    if isinstance(entities, pd.DataFrame):
        return {c: [_plain(v) for v in entities[c].tolist()] for c in entities.columns}
    if isinstance(entities, Mapping):
        return {k: [_plain(v) for v in vs] for k, vs in entities.items()}
    rows = list(entities)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [_plain(r.get(k)) for r in rows] for k in keys}


def _plain(v: Any) -> Any:
    """A value as JSON carries it: timestamps as ISO-8601 (UTC), NaN as null, numpy scalars as Python's."""
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, datetime)):
        ts = pd.Timestamp(v)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.isoformat().replace("+00:00", "Z")
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _at(at: Union[None, str, int, datetime, pd.Timestamp]) -> Any:
    if at is None or isinstance(at, (str, int)):
        return at
    return _plain(at)


class Larder:
    """A client of one `larder serve` (or replicas behind one address)."""

    def __init__(self, url: str = "http://127.0.0.1:6566", token: Optional[str] = None, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        if token:
            self._session.headers["authorization"] = f"Bearer {token}"

    # -- HTTP ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            res = self._session.request(method, f"{self.url}{path}", timeout=kwargs.pop("timeout", self.timeout), **kwargs)
        except requests.RequestException as err:
            raise LarderError(f"Larder at {self.url} cannot be reached: {err}", "unreachable", 0) from err
        if res.status_code >= 400:
            code, message = None, res.text[:500]
            try:
                body = res.json()
                if isinstance(body, dict):
                    code, message = body.get("code"), body.get("message") or body.get("detail") or message
            except ValueError:
                pass
            raise error_for(res.status_code, code, str(message))
        return res

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        return self._request(method, path, json=body).json()

    # -- Online --------------------------------------------------------------------------

    def get_online_features(
        self,
        entities: Entities,
        features: Optional[Sequence[str]] = None,
        service: Optional[str] = None,
        *,
        request_data: Optional[Entities] = None,
        at: Union[None, str, int, datetime, pd.Timestamp] = None,
        full_feature_names: bool = False,
        as_frame: bool = False,
    ) -> Union[Dict[str, List[Any]], pd.DataFrame]:
        """Features of a service (or a list of `view:feature`) for entities, as columns:
        `{join key: [...], feature: [...]}` like Feast's `to_dict()`, or a DataFrame with
        `as_frame=True`. A value that is missing or past its view's ttl is None.
        `request_data`: columns on-demand features read; `at`: as of this instant (default now)."""
        if (features is None) == (service is None):
            raise ValueError("give features or service (one of them)")
        body: Dict[str, Any] = {"entities": _columns(entities)}
        if service is not None:
            body["service"] = service
        else:
            body["features"] = list(features or [])
        if request_data is not None:
            body["requestData"] = _columns(request_data)
        if at is not None:
            body["at"] = _at(at)
        if full_feature_names:
            body["fullFeatureNames"] = True
        answer = self._json("POST", "/v1/features/online", body)
        names: List[str] = answer["features"]
        results = answer["results"]
        keys = list(results[0]["entity"].keys()) if results else list(body["entities"].keys())
        out: Dict[str, List[Any]] = {k: [r["entity"][k] for r in results] for k in keys}
        for name in names:
            out[name] = [r["values"].get(name) if r["statuses"].get(name) == "present" else None for r in results]
        return pd.DataFrame(out) if as_frame else out

    # -- Training sets -------------------------------------------------------------------

    def get_historical_features(
        self,
        entity_df: pd.DataFrame,
        service: Optional[str] = None,
        features: Optional[Sequence[str]] = None,
        *,
        timestamp_column: str = "event_timestamp",
        full_feature_names: bool = False,
    ) -> pd.DataFrame:
        """The point-in-time correct training set for `entity_df` (join keys, a timestamp
        column, any labels): each row with the features as they were just before its time.
        Sent and received as Parquet; recorded by Larder as a historical run."""
        if (features is None) == (service is None):
            raise ValueError("give service or features (one of them)")
        buf = io.BytesIO()
        entity_df.to_parquet(buf, index=False)
        params: Dict[str, str] = {"timestamp_column": timestamp_column}
        if service is not None:
            params["service"] = service
        else:
            params["features"] = ",".join(features or [])
        if full_feature_names:
            params["full_names"] = "true"
        res = self._request("POST", "/v1/features/historical", params=params, data=buf.getvalue(), headers={"content-type": PARQUET}, timeout=max(self.timeout, 600))
        df = pd.read_parquet(io.BytesIO(res.content))
        df.attrs["larder_run_id"] = res.headers.get("x-larder-run-id")
        return df

    # -- Writes --------------------------------------------------------------------------

    def push(self, source: str, df: Union[pd.DataFrame, Sequence[Mapping[str, Any]]], to: str = "online") -> Dict[str, int]:
        """Rows to a push source (`to`: "online", "offline" or "online_and_offline"), in batches
        of 10,000. Returns the rows sent and the duplicates skipped (event ids seen before)."""
        rows = [{k: _plain(v) for k, v in r.items()} for r in (df.to_dict("records") if isinstance(df, pd.DataFrame) else df)]
        sent = duplicates = 0
        for i in range(0, len(rows), PUSH_BATCH):
            r = self._json("POST", "/v1/push", {"source": source, "rows": rows[i : i + PUSH_BATCH], "to": to})
            sent += r["rows"]
            duplicates += r["duplicates"]
        return {"rows": sent, "duplicates": duplicates}

    def materialize(self, views: Optional[Iterable[str]] = None, full: bool = False) -> List[Dict[str, Any]]:
        """Materializes views now (all when none are named; incremental unless `full`); the runs' results."""
        body: Dict[str, Any] = {"full": full}
        if views is not None:
            body["views"] = list(views)
        return self._json("POST", "/v1/materialize", body)["results"]

    # -- Registry ------------------------------------------------------------------------

    def _registry(self) -> Dict[str, Any]:
        return self._json("GET", "/v1/registry")

    def list_entities(self) -> List[str]:
        return list(self._registry()["entities"])

    def list_sources(self) -> List[str]:
        return list(self._registry()["sources"])

    def list_feature_views(self) -> List[Dict[str, Any]]:
        """Each view's name, applied version and feature names."""
        return list(self._registry()["featureViews"])

    def list_feature_services(self) -> List[str]:
        return list(self._registry()["featureServices"])

    def get_feature_view(self, name: str) -> Dict[str, Any]:
        return self._json("GET", f"/v1/registry/feature-views/{requests.utils.quote(name, safe='')}")

    def get_feature_service(self, name: str) -> Dict[str, Any]:
        return self._json("GET", f"/v1/registry/feature-services/{requests.utils.quote(name, safe='')}")
