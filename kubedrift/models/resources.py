"""The two custom resources, their names and their printer columns.

The API group, kinds and columns are declared here once; `kubedrift.models.crd`
turns them into CustomResourceDefinitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.models.rules import Rule, RuleViolation, cel_matches, matches
from kubedrift.models.spec_rules import DNS_SUBDOMAIN
from kubedrift.models.status import DriftCheckStatus, ExperimentSpec, ExperimentStatus

GROUP = "kubedrift.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Labels and annotations the operator and the kubectl plugin agree on.
LABEL_CHECK = f"{GROUP}/check"
LABEL_RUN = f"{GROUP}/run"
LABEL_INDEX = f"{GROUP}/index"
ANNOTATION_CHECK_NOW = f"{GROUP}/check-now"
ANNOTATION_RETRAIN_NOW = f"{GROUP}/retrain-now"
ANNOTATION_PROMOTE = f"{GROUP}/promote"
# Re-runs and backfills: values are parsed by kubedrift.backfill.
ANNOTATION_CHECK_AT = f"{GROUP}/check-at"
ANNOTATION_BACKFILL = f"{GROUP}/backfill"


def handled_trigger_key(annotation: str, experiment: str | None = None) -> str:
    """The key of status.handledTriggers under which the operator acknowledges a trigger.

    The DriftCheck's own triggers use the annotation's name; a promote annotation
    lives on an Experiment, so its key also names the Experiment.
    """
    return f"{annotation}/{experiment}" if experiment else annotation


class ObjectMeta(Model):
    """The metadata fields kubedrift reads; the apiserver owns the rest."""

    model_config = ConfigDict(**{**Model.model_config, "extra": "allow"})

    name: str = Field(description="The object's name.")
    namespace: str | None = Field(default=None, description="The object's namespace.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations.")
    generation: int | None = Field(default=None, description="The spec generation.")
    uid: str | None = Field(default=None, description="The object's uid.")


# A DriftCheck's name is the value of the LABEL_CHECK label on every child (at most 63
# characters) and the start of its training pods' host names (`<job>-<index>`: a DNS label,
# no dots); names.py cuts the child names themselves to fit, the label can't be cut.
MAX_CHECK_NAME = 63
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CHECK_NAME_RULE = Rule(
    cel=f"size(self.metadata.name) <= {MAX_CHECK_NAME} && {cel_matches('self.metadata.name', DNS_LABEL)}",
    message=f"metadata.name must be at most {MAX_CHECK_NAME} characters of lowercase letters, digits and "
    "'-', without dots, starting and ending with a letter or digit: it becomes the kubedrift.io/check "
    "label of every child and the host name of the training pods",
)
# The apiserver's words for a namespace name that is not a DNS-1123 label.
NOT_A_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
# The apiserver's own check of every object's name (a DNS-1123 subdomain), in its words.
NOT_A_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


class DriftCheck(Model):
    """A DriftCheck: compare current data with reference data on a schedule, retrain on drift."""

    model_config = ConfigDict(**{**Model.model_config, "extra": "ignore"})

    api_version: str = Field(default=API_VERSION, description="kubedrift.io/v1alpha1")
    kind: str = Field(default="DriftCheck", description="DriftCheck")
    metadata: ObjectMeta
    spec: DriftCheckSpec
    status: DriftCheckStatus = Field(default_factory=DriftCheckStatus)

    @model_validator(mode="after")
    def _name_fits_the_children(self) -> DriftCheck:
        name = self.metadata.name
        if len(name) <= MAX_CHECK_NAME and matches(DNS_LABEL, name):
            return self
        error = RuleViolation(CHECK_NAME_RULE)
        if not matches(DNS_SUBDOMAIN, name):  # the apiserver's own check says so first
            error.preceded_by = f"metadata.name: Invalid value: {json.dumps(name)}: {NOT_A_SUBDOMAIN}"
        raise error


class Experiment(Model):
    """One hyperparameter combination of a retrain run and its metrics."""

    model_config = ConfigDict(**{**Model.model_config, "extra": "ignore"})

    api_version: str = Field(default=API_VERSION, description="kubedrift.io/v1alpha1")
    kind: str = Field(default="Experiment", description="Experiment")
    metadata: ObjectMeta
    spec: ExperimentSpec
    status: ExperimentStatus = Field(default_factory=ExperimentStatus)


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0  # 1: shown only with -o wide

    def to_wire(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            column["description"] = self.description
        if self.priority:
            column["priority"] = self.priority
        return column


@dataclass(frozen=True)
class ResourceKind:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec_model: type[Model]
    status_model: type[Model]
    description: str
    printer_columns: tuple[PrinterColumn, ...] = field(default_factory=tuple)
    categories: tuple[str, ...] = ("kubedrift",)
    # CEL rules on the whole object (they may read metadata.name), from the resource model.
    root_rules: tuple[dict[str, Any], ...] = ()


AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")

DRIFTCHECK = ResourceKind(
    kind="DriftCheck",
    plural="driftchecks",
    singular="driftcheck",
    short_names=("dc",),
    spec_model=DriftCheckSpec,
    status_model=DriftCheckStatus,
    description=DriftCheck.__doc__ or "",
    root_rules=(CHECK_NAME_RULE.to_wire(),),
    printer_columns=(
        PrinterColumn("Schedule", ".spec.schedule", description="When the check runs."),
        PrinterColumn("Last Check", ".status.lastCheck.time", "date", "When the last check finished."),
        PrinterColumn("Drift Share", ".status.lastCheck.driftShare", "number", "Share of drifted columns."),
        PrinterColumn("Drifted", ".status.lastCheck.datasetDrift", "boolean", "Dataset drift."),
        PrinterColumn("Best", ".status.run.bestExperiment", description="Best experiment of the last run."),
        PrinterColumn("Ready", ".status.conditions[?(@.type=='Ready')].status", description="Ready."),
        AGE,
        PrinterColumn(
            "Production", ".status.production.experiment", priority=1, description="The promoted experiment."
        ),
        PrinterColumn(
            "Reason",
            ".status.conditions[?(@.type=='Ready')].reason",
            priority=1,
            description="Why Ready is what it is.",
        ),
    ),
)

EXPERIMENT = ResourceKind(
    kind="Experiment",
    plural="experiments",
    singular="experiment",
    short_names=("exp",),
    spec_model=ExperimentSpec,
    status_model=ExperimentStatus,
    description=Experiment.__doc__ or "",
    printer_columns=(
        PrinterColumn("Check", ".spec.check", description="The DriftCheck."),
        PrinterColumn("Run", ".spec.run", description="The retrain run."),
        PrinterColumn("Params", ".spec.paramsSummary", description="The grid params."),
        PrinterColumn("Objective", ".status.objective", "number", "The objective metric's value."),
        PrinterColumn("Metrics", ".status.metricsSummary", description="All metrics."),
        PrinterColumn("Data", ".status.dataVersion", description="Data version."),
        PrinterColumn("Status", ".status.phase", description="Pending, Running, Succeeded, Failed."),
        AGE,
        PrinterColumn("Estimator", ".spec.estimator", priority=1, description="The estimator."),
        PrinterColumn("Index", ".spec.index", "integer", priority=1, description="Completion index."),
        PrinterColumn("Model", ".status.modelUri", priority=1, description="The model artifact."),
        PrinterColumn("Reason", ".status.reason", priority=1, description="Why it failed."),
    ),
)

KINDS = (DRIFTCHECK, EXPERIMENT)
