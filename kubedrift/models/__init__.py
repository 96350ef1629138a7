"""The resource models: the one home of every shape kubedrift reads or writes.

The CRD schemas (`crd`), the job configs (`jobconfig`), the job results
(`results`), the drift check's full report (`report`) and the status shapes
(`status`) all live here. Operator and jobs
import the models; the models import neither.
"""

from kubedrift.models.base import Model
from kubedrift.models.conditions import Condition
from kubedrift.models.driftcheck import (
    Columns,
    DataSource,
    DriftCheckSpec,
    DriftSettings,
    MethodOverride,
    ModelSpec,
    Objective,
    Promotion,
    Retrain,
    SecretRef,
    Storage,
)
from kubedrift.models.jobconfig import CheckJobConfig, TrainJobConfig
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift.models.resources import API_VERSION, GROUP, VERSION, DriftCheck, Experiment
from kubedrift.models.results import CheckSummary, DataFingerprint, JobFailure, TrialSummary
from kubedrift.models.status import DriftCheckStatus, ExperimentSpec, ExperimentStatus

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "CheckJobConfig",
    "CheckSummary",
    "ColumnResult",
    "Columns",
    "Condition",
    "DataFingerprint",
    "DataSource",
    "DriftCheck",
    "DriftCheckSpec",
    "DriftCheckStatus",
    "DriftReport",
    "DriftSettings",
    "Experiment",
    "ExperimentSpec",
    "ExperimentStatus",
    "JobFailure",
    "MethodOverride",
    "Model",
    "ModelSpec",
    "Objective",
    "Promotion",
    "Retrain",
    "SecretRef",
    "Storage",
    "TrainJobConfig",
    "TrialSummary",
]
