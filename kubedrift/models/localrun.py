"""What a local `kubedrift run` records about one retrain run, beside the trials' own files.

A cluster run has its DriftCheck and Experiments to say what the run was (objective,
metrics, grid) and why an index failed; a local run leaves `run.json` in its folder
instead, so that `kubedrift ui` can draw the same pages from the folder alone.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import ParamValue
from kubedrift.models.jobconfig import TrainJobConfig

RUN_RECORD = "run.json"


class FailedIndex(Model):
    """An index that raised, as the run's table lists it."""

    index: int = Field(ge=0, description="The completion index.")
    reason: str = Field(description="A CamelCase reason, e.g. TrainingFailed.")
    message: str = Field(description="What went wrong, for people.")
    params: dict[str, ParamValue] = Field(default_factory=dict, description="What it was to fit with.")
    baseline: bool = Field(default=False, description="Whether it was the production model's evaluation.")


class LocalRunRecord(Model):
    """`<reportsUri>/<check>/<run>/run.json`: the run's config and its failures."""

    config: TrainJobConfig = Field(description="The run's config (no credentials are ever part of it).")
    finished_at: datetime = Field(description="When the last index ended.")
    failed: list[FailedIndex] = Field(default_factory=list, description="The indexes that raised.")
