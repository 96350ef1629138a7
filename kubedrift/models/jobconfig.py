"""The configs the operator renders into a ConfigMap and the jobs read.

They are cut from the DriftCheck spec, so a job and `kubedrift run` read the
same fields the user wrote. Credentials are never part of them: the job pods get
those from the Secret named in `storage.secretRef`, as environment variables.
"""

from __future__ import annotations

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import Columns, DataSource, DriftCheckSpec, DriftSettings, Retrain, Storage

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Environment variables through which the operator hands configs to the jobs.
ENV_CONFIG = "KUBEDRIFT_CONFIG"  # a path to the JSON/YAML config file
ENV_TERMINATION_MESSAGE_PATH = "KUBEDRIFT_TERMINATION_MESSAGE_PATH"


class CheckJobConfig(Model):
    """Everything one drift check needs."""

    check: str = Field(description="The DriftCheck's name; reports go under <reportsUri>/<check>/.")
    namespace: str = Field(default="default", description="The DriftCheck's namespace.")
    reference: DataSource
    current: DataSource
    columns: Columns = Field(default_factory=Columns)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    storage: Storage

    @classmethod
    def from_spec(cls, check: str, namespace: str, spec: DriftCheckSpec) -> CheckJobConfig:
        return cls(
            check=check,
            namespace=namespace,
            reference=spec.reference,
            current=spec.current,
            columns=spec.columns,
            drift=spec.drift,
            storage=spec.storage,
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

    @classmethod
    def from_spec(
        cls, check: str, namespace: str, run: str, spec: DriftCheckSpec, baseline_model_uri: str | None = None
    ) -> TrainJobConfig:
        if spec.retrain is None:
            raise ValueError("the DriftCheck has no retrain section")
        return cls(
            check=check,
            namespace=namespace,
            run=run,
            retrain=spec.retrain,
            columns=spec.columns,
            storage=spec.storage,
            baseline_model_uri=baseline_model_uri,
        )
