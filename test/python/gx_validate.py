"""Great Expectations' own verdicts on a CSV file for a suite's JSON (GE 1.x, pandas):
prints one object per expectation, in the suite's order: type, success, unexpected_count
(column map expectations), observed_value (aggregate ones).

    python gx_validate.py <data.csv> <suite.json>
"""
import json
import sys
from pathlib import Path

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite

data, suite_path = sys.argv[1], sys.argv[2]
suite_json = json.loads(Path(suite_path).read_text())
context = gx.get_context(mode="ephemeral")
batch = context.data_sources.add_pandas("larder").add_dataframe_asset("rows").add_batch_definition_whole_dataframe("all").get_batch(
    batch_parameters={"dataframe": pd.read_csv(data)}
)
suite = context.suites.add(ExpectationSuite(name=suite_json["name"], expectations=suite_json["expectations"]))
result = batch.validate(suite)
out = []
for r in result.results:
    res = r.result or {}
    out.append(
        {
            "type": r.expectation_config.type,
            "kwargs": {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            "success": bool(r.success),
            "unexpected_count": res.get("unexpected_count"),
            "observed_value": res.get("observed_value"),
        }
    )
print(json.dumps(out))
