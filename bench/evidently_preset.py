"""Evidently 0.7's DataDriftPreset on two Parquet files; runs in .venv-evidently.

.venv-evidently/bin/python bench/evidently_preset.py REFERENCE CURRENT
"""

import sys

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(current, data_definition=DataDefinition()),
    Dataset.from_pandas(reference, data_definition=DataDefinition()),
)
print(snapshot.dict()["metrics"][0]["value"])
