"""Runs Evidently 0.7's DataDriftPreset on two Parquet files; prints per-column results as JSON.

This script runs inside the separate Evidently venv (.venv-evidently, made by
scripts/evidently-venv.sh), never in kubedrift's own environment:

    .venv-evidently/bin/python tests/compat/evidently_runner.py REQUEST.json

REQUEST: {"reference": path, "current": path, "options": {DataDriftPreset kwargs}}.
Everything printed is read from Evidently's own output: each column's score from its
ValueDrift metric, its verdict from the "drift" test Evidently attaches to that metric
(FAIL when Evidently detected drift), and the dataset's count and share from its
DriftedColumnsCount. Nothing is recomputed here.
"""

import json
import sys

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
from evidently.presets import DataDriftPreset


def main(request_path: str) -> None:
    with open(request_path) as handle:
        request = json.load(handle)
    reference = pd.read_parquet(request["reference"])
    current = pd.read_parquet(request["current"])
    current_data = Dataset.from_pandas(current, data_definition=DataDefinition())
    snapshot = Report([DataDriftPreset(**request.get("options", {}))], include_tests=True).run(
        current_data, Dataset.from_pandas(reference, data_definition=DataDefinition())
    )
    result = snapshot.dict()
    # Evidently's config names the method by its display name; its registry gives the short name.
    names = {t.display_name: t.name for tests in _registered_stat_tests.values() for t in tests.values()}
    names |= {t.name: t.name for tests in _registered_stat_tests.values() for t in tests.values()}
    # The verdict of each ValueDrift metric, by the metric's id.
    verdicts = {
        test["metric_config"]["metric_id"]: test["status"]
        for test in result["tests"]
        if test["id"] == "drift"
    }
    definition = current_data._data_definition
    out: dict = {"columns": {}}
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            out["count"], out["share"] = metric["value"]["count"], metric["value"]["share"]
            continue
        name = config["column"]
        status = verdicts[metric["id"]]
        assert status in ("FAIL", "SUCCESS"), f"{name}: Evidently's drift test says {status}"
        out["columns"][name] = {
            "method": names[config["method"]],
            "type": "numerical" if definition.get_column_type(name).value == "num" else "categorical",
            "score": float(metric["value"]),
            "drifted": status == "FAIL",
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
