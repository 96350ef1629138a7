"""The DriftCheck resource: what to compare, how, and what to do about drift.

This module is the one home of the DriftCheck's shape. The CRD schema
(`kubedrift.models.crd`), the job configs and the local `kubedrift run` are all
derived from these classes; nothing re-declares them by hand. Every field has a
description because it becomes the text of `kubectl explain`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, JsonValue, field_validator, model_validator

from kubedrift.models.base import SpecModel
from kubedrift.models.estimators import ESTIMATORS, REGRESSORS
from kubedrift.models.metrics import CLASSIFICATION_METRICS, METRICS, REGRESSION_METRICS
from kubedrift.models.params import param_value_problem
from kubedrift.models.rules import OperatorRule, Rule, cel_matches, cel_rules, matches
from kubedrift.models.spec_rules import (
    COLUMNS_OVERLAP_RULE,
    DATA_OVERLAP_RULE,
    DNS_SUBDOMAIN,
    GRID_CAP_RULE,
    MAX_COLUMNS,
    MAX_FAILED_RULE,
    MAX_GRID_PARAMS,
    MAX_RESOURCES,
    MAX_TRIALS,
    REQUESTS_WITHIN_LIMITS_RULE,
    RESOURCE_NAME_RULES,
    RESOURCE_QUANTITY_RULES,
    SAME_DATA_RULE,
    SCHEDULE_RULE,
    SCHEDULE_TIME_ZONE_RULE,
    SECRET_NAME_RULE,
    TIME_ZONE_RULE,
    check_resources,
    check_schedule,
    columns_overlap,
    is_time_zone,
    normalised_uri,
    trials,
)
from kubedrift.models.windows import WINDOWS_OVERLAP_RULE, TimeLayout, Window, windows_overlap
from kubedrift.uris import overlaps

# A URI is a Parquet file, a directory/prefix or a glob: s3://, file:// or a plain path.
URI_PATTERN = r"^(s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?|file:///.*|/.*|\.{1,2}/.*|[A-Za-z0-9_][^:]*)$"
URI_DESCRIPTION = (
    "A Parquet file, a directory or prefix (partitioned datasets included) or a glob; "
    "s3://bucket/key, file:///path or a plain path."
)

StatTestName = Literal[
    "ks",
    "chisquare",
    "z",
    "wasserstein",
    "jensenshannon",
    "psi",
    "kl_div",
    "hellinger",
    "energy_distance",
    "anderson",
    "cramer_von_mises",
    "mannwhitney",
    "t_test",
]

# The literals come from the tables; mypy cannot read a computed Literal, so it sees str.
if TYPE_CHECKING:
    EstimatorName = str
    MetricName = str
else:
    EstimatorName = Literal[tuple(ESTIMATORS)]
    MetricName = Literal[tuple(METRICS)]

# A grid value or fixed param: what a scikit-learn constructor takes from YAML.
ParamValue = JsonValue


URI_RULE = Rule(
    cel=cel_matches("self.uri", URI_PATTERN),
    message="uri must be s3://bucket/key, file:///path or a path",
    field_path=".uri",
)


WINDOW_NEEDS_TIME_RULE = Rule(
    cel="!has(self.window) || has(self.time)",
    message="window needs time: say how time is found in the dataset (time.partition or time.column)",
    field_path=".window",
)


class DataSource(SpecModel):
    """Where a dataset lives, and optionally which window of time to read from it."""

    model_config = cel_rules(URI_RULE, WINDOW_NEEDS_TIME_RULE)

    uri: str = Field(min_length=1, max_length=2048, description=URI_DESCRIPTION)
    time: TimeLayout | None = Field(
        default=None,
        description="How time is found in the dataset below uri: its partition paths or a timestamp column.",
    )
    window: Window | None = Field(
        default=None,
        description="Which stretch of time to read: relative to the check's scheduled time, or absolute. "
        "Absent: the whole dataset.",
    )

    @field_validator("uri")
    @classmethod
    def _uri_scheme(cls, uri: str) -> str:
        return URI_RULE.check(matches(URI_PATTERN, uri), uri)

    @model_validator(mode="after")
    def _window_needs_time(self) -> Self:
        return WINDOW_NEEDS_TIME_RULE.check(self.window is None or self.time is not None, self)


class ReferenceSource(DataSource):
    """The reference data: fixed, an absolute window, or the production model's own training data."""

    follow_production: bool = Field(
        default=False,
        description="After a promotion, compare with the promoted model's training data (its resolved "
        "source and window, recorded in status.production) with no spec edit; before any promotion, "
        "the source as written here is the fallback.",
    )

    def as_source(self) -> DataSource:
        """The source as written, without followProduction: what a job config carries."""
        return DataSource(uri=self.uri, time=self.time, window=self.window)


class Columns(SpecModel):
    """Which columns play which role. Columns not named are inferred from their types."""

    model_config = cel_rules(COLUMNS_OVERLAP_RULE)

    target: str | None = Field(default=None, max_length=256, description="The column the model predicts.")
    prediction: str | None = Field(
        default=None, description="The column that holds the production model's predictions."
    )
    numerical: list[Annotated[str, Field(max_length=256)]] | None = Field(
        default=None,
        max_length=MAX_COLUMNS,
        description="Columns to treat as numerical; inferred when absent.",
    )
    categorical: list[Annotated[str, Field(max_length=256)]] | None = Field(
        default=None,
        max_length=MAX_COLUMNS,
        description="Columns to treat as categorical; inferred when absent.",
    )
    exclude: list[Annotated[str, Field(max_length=256)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Columns that are neither checked nor used for training.",
    )

    @model_validator(mode="after")
    def _numerical_or_categorical(self) -> Columns:
        return COLUMNS_OVERLAP_RULE.check(not columns_overlap(self.numerical, self.categorical), self)


class MethodOverride(SpecModel):
    """A stat test and/or threshold that replaces the default choice."""

    method: StatTestName | None = Field(
        default=None, description="The stat test to use instead of the size-based default."
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        description="What the score is compared with: a small p-value or a large distance means drift "
        "(each test's exact comparison is in docs/concepts.md).",
    )


Correction = Literal["none", "bonferroni", "benjamini-hochberg"]


class DriftSettings(SpecModel):
    """How drift is decided. The defaults reproduce Evidently 0.7's."""

    dataset_drift_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="The dataset drifted when at least this share of the checked columns drifted.",
    )
    numerical: MethodOverride | None = Field(
        default=None, description="Method and threshold for every numerical column."
    )
    categorical: MethodOverride | None = Field(
        default=None, description="Method and threshold for every categorical column."
    )
    per_column: dict[str, MethodOverride] = Field(
        default_factory=dict, description="Method and threshold for single columns, by name."
    )
    correction: Correction = Field(
        default="none",
        description="Multiple-testing correction applied to p-value tests.",
    )


# What the apiserver takes as a Secret's data key.
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 (a pattern, not a secret)


class SecretRef(SpecModel):
    """A Secret in the DriftCheck's namespace that holds object-storage credentials."""

    model_config = cel_rules(SECRET_NAME_RULE)

    name: str = Field(min_length=1, max_length=253, description="The Secret's name.")
    access_key_id_key: str = Field(
        default="AWS_ACCESS_KEY_ID",
        max_length=253,
        pattern=SECRET_KEY_PATTERN,
        description="The Secret key that holds the access key id.",
    )
    secret_access_key_key: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        max_length=253,
        pattern=SECRET_KEY_PATTERN,
        description="The Secret key that holds the secret access key.",
    )

    @field_validator("name")
    @classmethod
    def _a_secret_name(cls, name: str) -> str:
        return SECRET_NAME_RULE.check(matches(DNS_SUBDOMAIN, name), name)


class KeyRef(SpecModel):
    """One key of a ConfigMap or Secret in the DriftCheck's namespace."""

    name: str = Field(min_length=1, max_length=253, description="The ConfigMap's or Secret's name.")
    key: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[-._a-zA-Z0-9]+$",
        description="The key whose value is the PEM bundle.",
    )


CA_BUNDLE_RULE = Rule(
    cel="has(self.configMapRef) != has(self.secretRef)",
    message="caBundle must name exactly one of configMapRef or secretRef",
)


class CaBundle(SpecModel):
    """CA certificates (PEM) that the endpoint's TLS certificate is verified against, for a store
    whose certificate a private CA signed. The job pods get it mounted read-only, named by the
    standard AWS_CA_BUNDLE; it replaces the default trust store for storage calls. Verification
    is never turned off."""

    model_config = cel_rules(CA_BUNDLE_RULE)

    config_map_ref: KeyRef | None = Field(default=None, description="A ConfigMap key that holds the bundle.")
    secret_ref: KeyRef | None = Field(default=None, description="A Secret key that holds the bundle.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> CaBundle:
        return CA_BUNDLE_RULE.check((self.config_map_ref is None) != (self.secret_ref is None), self)


REPORTS_URI_RULE = Rule(
    cel=cel_matches("self.reportsUri", URI_PATTERN),
    message="reportsUri must be s3://bucket/prefix, file:///path or a path",
    field_path=".reportsUri",
)


class Storage(SpecModel):
    """Object storage: where data is read from and reports and models are written to."""

    model_config = cel_rules(REPORTS_URI_RULE)

    reports_uri: str = Field(
        min_length=1,
        max_length=2048,
        description="Where reports, model artifacts and metrics are written, one folder per check.",
    )
    endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/.*)?$",
        description="The S3 endpoint URL, for S3-compatible stores; the AWS default when absent.",
    )
    region: str | None = Field(default=None, description="The S3 region.")

    @field_validator("reports_uri")
    @classmethod
    def _reports_uri_scheme(cls, uri: str) -> str:
        return REPORTS_URI_RULE.check(matches(URI_PATTERN, uri), uri)

    secret_ref: SecretRef | None = Field(
        default=None,
        description="Credentials come only from this Secret, never from the spec. "
        "Absent: the job pods' ambient credentials (e.g. workload identity) are used.",
    )
    ca_bundle: CaBundle | None = Field(
        default=None,
        description="The CA bundle for an endpoint with a private CA, from a ConfigMap or Secret. "
        "Absent: the image's default CAs. `kubedrift run` uses AWS_CA_BUNDLE from its environment.",
    )


MAX_FIXED_PARAMS = 64
# The CRD cannot carry the param checks: CEL does not see into maps of untyped JSON
# values. The models enforce them (names here, types and ranges from scikit-learn's own
# constraints), so `kubedrift run` rejects such a spec at once and the operator marks
# the DriftCheck Stalled before any child exists, with the same line.
GRID_AND_PARAMS = (
    "grid and model.params both set {}: a trial can take one value; keep each param in one place"
)
UNKNOWN_PARAMS = "{} may only name constructor params of the estimator (random_state comes from randomSeed)"


def _check_param_names(estimator: str, names: Iterable[str], field_path: str) -> None:
    unknown = sorted(set(names) - set(ESTIMATORS[estimator].params))
    if unknown:
        message = UNKNOWN_PARAMS.format(field_path.lstrip("."))
        raise OperatorRule(f"{message}; {estimator} has no {', '.join(unknown)}", field_path).violation(
            unknown
        )


class ModelSpec(SpecModel):
    """The estimator every trial fits, and its fixed params."""

    estimator: EstimatorName = Field(description="An allow-listed scikit-learn estimator.")
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        max_length=MAX_FIXED_PARAMS,
        description="Constructor params shared by every trial.",
    )

    @model_validator(mode="after")
    def _params_of_the_estimator(self) -> ModelSpec:
        _check_param_names(self.estimator, self.params, ".params")
        for name, value in sorted(self.params.items()):
            _check_param_value(self.estimator, name, value, f".params.{name}")
        return self


def _check_param_value(estimator: str, name: str, value: ParamValue, field_path: str) -> None:
    """scikit-learn's own constraints, read from a table: refused before any trial runs."""
    problem = param_value_problem(estimator, name, value)
    if problem is not None:
        raise OperatorRule(problem, field_path).violation(value)


Goal = Literal["maximize", "minimize"]


class Objective(SpecModel):
    """The metric that ranks trials."""

    metric: MetricName = Field(description="The metric to rank trials by.")
    goal: Goal = Field(default="maximize", description="maximize or minimize.")


Quantity = Annotated[str, Field(max_length=64)]


class ResourceRequirements(SpecModel):
    """Compute resources of each training pod, as in a container spec."""

    model_config = cel_rules(*RESOURCE_NAME_RULES, *RESOURCE_QUANTITY_RULES, REQUESTS_WITHIN_LIMITS_RULE)

    requests: dict[str, Quantity | int] = Field(
        default_factory=dict,
        max_length=MAX_RESOURCES,
        description="Minimum resources, e.g. cpu: 500m, memory: 1Gi.",
    )
    limits: dict[str, Quantity | int] = Field(
        default_factory=dict, max_length=MAX_RESOURCES, description="Maximum resources."
    )

    @model_validator(mode="after")
    def _quantities(self) -> ResourceRequirements:
        check_resources(self.requests, self.limits)
        return self


Trigger = Literal["OnDrift", "Always", "Manual"]


# Bounds keep the CEL rules' estimated cost within the apiserver's budget, and a
# grid within what one Indexed Job can run.
MAX_GRID_VALUES = 1000
MAX_METRICS = 8
GridValues = Annotated[list[ParamValue], Field(min_length=1, max_length=MAX_GRID_VALUES)]
_REGRESSION_ESTIMATOR = f"self.model.estimator in {list(REGRESSORS)}"
OBJECTIVE_RULE = Rule(
    cel=(
        f"{_REGRESSION_ESTIMATOR} ? "
        f"([self.objective.metric] + self.metrics).all(m, m in {list(REGRESSION_METRICS)}) : "
        f"([self.objective.metric] + self.metrics).all(m, m in {list(CLASSIFICATION_METRICS)})"
    ),
    message=f"metrics must fit the estimator: {', '.join(REGRESSION_METRICS)} for regressors (and Ridge); "
    f"{', '.join(CLASSIFICATION_METRICS)} for classifiers",
    field_path=".objective.metric",
)


class Retrain(SpecModel):
    """How models are retrained: one Indexed Job, one index per combination of the grid."""

    model_config = cel_rules(OBJECTIVE_RULE, SAME_DATA_RULE)

    trigger: Trigger = Field(
        default="OnDrift",
        description="OnDrift: after a check finds dataset drift; Always: after every check; "
        "Manual: only on the retrain annotation.",
    )
    train: DataSource = Field(
        description="The training data; a window on the same dataset as test must end before test's starts."
    )
    test: DataSource = Field(
        description="The evaluation data; not the training data (on one dataset: a later window)."
    )
    allow_test_on_train_data: bool = Field(
        default=False,
        description="Allow test to be the same data as train. Scores then say how well a model fits "
        "the data it learned from, not how it does on new data, so promotion favours overfitting; "
        "for smoke tests only.",
    )
    model: ModelSpec = Field(description="The estimator and its fixed params.")
    grid: dict[str, GridValues] = Field(
        default_factory=dict,
        max_length=MAX_GRID_PARAMS,
        description=f"Param name to the list of values to try; every combination is one trial "
        f"(at most {MAX_TRIALS}).",
    )
    metrics: list[MetricName] = Field(
        default_factory=list,
        max_length=MAX_METRICS,
        description="Metrics computed for every trial; the objective's metric is always included.",
    )
    objective: Objective = Field(description="The metric that picks the best trial.")
    random_seed: int = Field(default=0, ge=0, description="The seed every trial fits with.")
    parallelism: int = Field(default=2, ge=1, le=1000, description="Trials that run at once.")
    backoff_limit_per_index: int = Field(
        default=1, ge=0, le=10, description="Retries of one trial after a transient failure."
    )
    max_failed_indexes: int | None = Field(
        default=None,
        ge=0,
        le=MAX_TRIALS,
        description="Stop the whole run once more trials than this failed; at most the number of trials.",
    )
    resources: ResourceRequirements = Field(
        default_factory=ResourceRequirements, description="Resources of each training pod."
    )

    @model_validator(mode="after")
    def _metric_fits_estimator(self) -> Retrain:
        regression = ESTIMATORS[self.model.estimator].regression
        wanted = {self.objective.metric, *self.metrics}
        fits = wanted <= set(REGRESSION_METRICS if regression else CLASSIFICATION_METRICS)
        OBJECTIVE_RULE.check(fits, self)
        return self

    @model_validator(mode="after")
    def _grid_within_the_cap(self) -> Retrain:
        size = trials(self.grid)
        if size > MAX_TRIALS:
            raise GRID_CAP_RULE.violation(size)
        if self.max_failed_indexes is not None and self.max_failed_indexes > size:
            raise MAX_FAILED_RULE.violation(self.max_failed_indexes)
        return self

    @model_validator(mode="after")
    def _test_is_not_the_training_data(self) -> Retrain:
        if self.allow_test_on_train_data:
            return self
        if windowed_split(self.train, self.test):
            if windows_overlap(self.train.window, self.test.window):  # type: ignore[arg-type]
                raise WINDOWS_OVERLAP_RULE.violation(self.test.window.to_wire())  # type: ignore[union-attr]
            return self
        train, test = self.train.uri, self.test.uri
        SAME_DATA_RULE.check(normalised_uri(train) != normalised_uri(test), self)
        if overlaps(train, test):
            raise DATA_OVERLAP_RULE.violation(test)
        return self

    @model_validator(mode="after")
    def _grid_names_params_of_the_estimator(self) -> Retrain:
        _check_param_names(self.model.estimator, self.grid, ".grid")
        both = sorted(set(self.grid) & set(self.model.params))
        if both:
            raise OperatorRule(GRID_AND_PARAMS.format(", ".join(both)), ".grid").violation(both)
        for name, values in sorted(self.grid.items()):
            for position, value in enumerate(values):
                _check_param_value(self.model.estimator, name, value, f".grid.{name}[{position}]")
        return self


def windowed_split(train: DataSource, test: DataSource) -> bool:
    """Train and test both read windows of one dataset: a time-based split, checked by window."""
    return (
        train.window is not None
        and test.window is not None
        and normalised_uri(train.uri) == normalised_uri(test.uri)
    )


PromotionPolicy = Literal["Auto", "Manual"]


PROMOTION_URI_RULE = Rule(
    cel=f"!has(self.uri) || {cel_matches('self.uri', URI_PATTERN)}",
    message="uri must be s3://bucket/prefix, file:///path or a path",
    field_path=".uri",
)


class Promotion(SpecModel):
    """How the best trial becomes the production model."""

    model_config = cel_rules(PROMOTION_URI_RULE)

    policy: PromotionPolicy = Field(
        default="Manual",
        description="Auto: promote the best trial when it beats production; "
        "Manual: wait for the promote annotation on an Experiment.",
    )
    uri: str | None = Field(
        default=None,
        max_length=2048,
        description="Where the promoted model is copied; <reportsUri>/<check>/production/ when absent.",
    )
    min_improvement: float = Field(
        default=0.0,
        ge=0,
        description="How much the objective must improve on production to promote automatically.",
    )

    @field_validator("uri")
    @classmethod
    def _uri_scheme(cls, uri: str | None) -> str | None:
        return PROMOTION_URI_RULE.check(uri is None or matches(URI_PATTERN, uri), uri)


MAX_SHARDS = 64


class CheckRun(SpecModel):
    """How the drift check runs: in one pod, or split over the indexes of an Indexed Job."""

    shards: int = Field(
        default=1,
        ge=1,
        le=MAX_SHARDS,
        description="1: one pod reads the current data. More: an Indexed Job with this many indexes, "
        "each profiling its share of the current data's row groups (balanced by rows), then one "
        "merge pod that merges the partial profiles and tests them against the reference: the same "
        "report and verdicts as one pod. The operator never reads data, so it cannot pick this by "
        "size: raise it when one pod takes too long over the current window.",
    )


TARGET_RULE = Rule(
    cel="!has(self.columns) || !has(self.columns.target) || !has(self.columns.exclude) "
    "|| !(self.columns.target in self.columns.exclude)",
    message="columns.target must not also be in columns.exclude",
    field_path=".columns.target",
)


class DriftCheckSpec(SpecModel):
    """What to compare, when, and what to do about drift."""

    model_config = cel_rules(SCHEDULE_TIME_ZONE_RULE, SCHEDULE_RULE, TARGET_RULE)

    schedule: str = Field(
        default="0 * * * *",
        min_length=1,
        max_length=128,
        description="When the check runs, in cron format (five fields, or @hourly and friends).",
    )
    time_zone: str | None = Field(
        default=None,
        description="The IANA time zone of the schedule, e.g. Europe/Berlin; the controller manager's "
        "when absent.",
    )
    suspend: bool = Field(default=False, description="Stop scheduling checks; running ones finish.")
    reference: ReferenceSource = Field(
        description="The data the model was trained on: fixed, a window, or (followProduction) the "
        "production model's training data."
    )
    current: DataSource = Field(
        description="The production data to compare with it, e.g. a window of the last 7 days."
    )
    columns: Columns = Field(default_factory=Columns, description="Column roles.")
    drift: DriftSettings = Field(default_factory=DriftSettings, description="How drift is decided.")
    check: CheckRun = Field(default_factory=CheckRun, description="How the check runs: one pod or shards.")
    storage: Storage = Field(description="Object storage access and where results go.")
    retrain: Retrain | None = Field(default=None, description="Retraining when drift is found.")
    promotion: Promotion = Field(default_factory=Promotion, description="Promotion of the best trial.")

    @field_validator("schedule")
    @classmethod
    def _schedule_has_five_fields(cls, schedule: str) -> str:
        return check_schedule(schedule)

    @field_validator("time_zone")
    @classmethod
    def _an_iana_time_zone(cls, zone: str | None) -> str | None:
        if zone is not None and not is_time_zone(zone):
            raise TIME_ZONE_RULE.violation(zone)
        return zone

    @model_validator(mode="after")
    def _target_not_excluded(self) -> DriftCheckSpec:
        target = self.columns.target
        return TARGET_RULE.check(target is None or target not in self.columns.exclude, self)
