"""The configs the operator renders into a ConfigMap and the jobs read.

They are cut from the DriftCheck spec, so a job and `kubedrift run` read the
same fields the user wrote. Credentials are never part of them: the job pods get
those from the Secret named in `storage.secretRef`, as environment variables.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import (
    Columns,
    DataSource,
    DriftCheckSpec,
    DriftSettings,
    Retrain,
    Storage,
)
from kubedrift.models.windows import resolve_source

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Environment variables through which the operator hands configs to the jobs.
ENV_CONFIG = "KUBEDRIFT_CONFIG"  # a path to the JSON/YAML config file
ENV_TERMINATION_MESSAGE_PATH = "KUBEDRIFT_TERMINATION_MESSAGE_PATH"
# The check's scheduled time (RFC 3339), set on Jobs the operator creates for run --at and backfill.
ENV_SCHEDULED_AT = "KUBEDRIFT_SCHEDULED_AT"
# The pod's Job name (downward API, label batch.kubernetes.io/job-name): a CronJob names its Jobs
# <cronjob>-<scheduled time in Unix minutes>.
ENV_JOB_NAME = "KUBEDRIFT_JOB_NAME"


class CheckJobConfig(Model):
    """Everything one drift check needs."""

    check: str = Field(description="The DriftCheck's name; reports go under <reportsUri>/<check>/.")
    namespace: str = Field(default="default", description="The DriftCheck's namespace.")
    reference: DataSource
    current: DataSource
    columns: Columns = Field(default_factory=Columns)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    storage: Storage
    zone: str | None = Field(
        default=None, description="The DriftCheck's timeZone: windows and partition values are read in it."
    )
    shards: int = Field(
        default=1, ge=1, description="The DriftCheck's check.shards: indexes that profile the current data."
    )

    @classmethod
    def from_spec(
        cls, check: str, namespace: str, spec: DriftCheckSpec, reference: DataSource | None = None
    ) -> CheckJobConfig:
        """The sources as written (relative windows: the job resolves them with its scheduled time);
        `reference` replaces the spec's (the production model's training data, with followProduction)."""
        return cls(
            check=check,
            namespace=namespace,
            reference=reference or spec.reference.as_source(),
            current=spec.current,
            columns=spec.columns,
            drift=spec.drift,
            storage=spec.storage,
            zone=spec.time_zone,
            shards=spec.check.shards,
        )


class TrainJobConfig(Model):
    """Everything one retrain run needs; each index picks its own combination."""

    check: str = Field(description="The DriftCheck's name.")
    namespace: str = Field(default="default", description="The DriftCheck's namespace.")
    run: str = Field(description="The run id; artifacts go under <reportsUri>/<check>/<run>/<index>/.")
    retrain: Retrain
    columns: Columns = Field(default_factory=Columns)
    storage: Storage
    baseline_model_uri: str | None = Field(
        default=None, description="The production model to evaluate as the baseline, if any."
    )
    scheduled_at: datetime | None = Field(
        default=None, description="The time the train and test windows were resolved with."
    )

    @classmethod
    def from_spec(
        cls,
        check: str,
        namespace: str,
        run: str,
        spec: DriftCheckSpec,
        baseline_model_uri: str | None = None,
        scheduled_at: datetime | None = None,
    ) -> TrainJobConfig:
        """With `scheduled_at` (the triggering check's scheduled time), relative train and test
        windows are resolved to absolute ones here, so every index of the run reads the same rows."""
        if spec.retrain is None:
            raise ValueError("the DriftCheck has no retrain section")
        retrain = spec.retrain
        if scheduled_at is not None:
            resolved = retrain.model_copy(
                update={
                    "train": resolve_source(retrain.train, scheduled_at, spec.time_zone),
                    "test": resolve_source(retrain.test, scheduled_at, spec.time_zone),
                }
            )
            # Validated again: one relative and one absolute window are only comparable resolved.
            retrain = Retrain.from_wire(resolved.to_wire())
        return cls(
            check=check,
            namespace=namespace,
            run=run,
            retrain=retrain,
            columns=spec.columns,
            storage=spec.storage,
            baseline_model_uri=baseline_model_uri,
            scheduled_at=scheduled_at,
        )
