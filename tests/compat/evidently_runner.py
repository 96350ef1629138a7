"""Runs Evidently 0.7's DataDriftPreset on two Parquet files; prints per-column results as JSON.

This script runs inside the separate Evidently venv (.venv-evidently, made by
scripts/evidently-venv.sh), never in kubedrift's own environment:

    .venv-evidently/bin/python tests/compat/evidently_runner.py REQUEST.json

REQUEST: {"reference": path, "current": path, "options": {DataDriftPreset kwargs}}.
Each column's verdict comes from Evidently's own registered stat test, called on
the column the way Evidently's ValueDrift prepares it (nulls and ±inf dropped).
"""

import json
import sys

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
from evidently.legacy.core import ColumnType
from evidently.presets import DataDriftPreset


def main(request_path: str) -> None:
    with open(request_path) as handle:
        request = json.load(handle)
    reference = pd.read_parquet(request["reference"])
    current = pd.read_parquet(request["current"])
    current_data = Dataset.from_pandas(current, data_definition=DataDefinition())
    snapshot = Report([DataDriftPreset(**request.get("options", {}))]).run(
        current_data, Dataset.from_pandas(reference, data_definition=DataDefinition())
    )
    by_display = {t.display_name: t for tests in _registered_stat_tests.values() for t in tests.values()}
    by_display |= {t.name: t for tests in _registered_stat_tests.values() for t in tests.values()}
    definition = current_data._data_definition
    out: dict = {"columns": {}}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            out["count"], out["share"] = metric["value"]["count"], metric["value"]["share"]
            continue
        name = config["column"]
        column_type = definition.get_column_type(name)
        test = by_display[config["method"]]
        ref = reference[name].replace([np.inf, -np.inf], np.nan).dropna()
        cur = current[name].replace([np.inf, -np.inf], np.nan).dropna()
        verdict = test(ref, cur, ColumnType(column_type.value), config["threshold"])
        out["columns"][name] = {
            "method": test.name,
            "type": "numerical" if column_type == ColumnType.Numerical else "categorical",
            "score": float(metric["value"]),
            "drifted": bool(verdict.drifted),
            "rescored": float(verdict.drift_score),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
