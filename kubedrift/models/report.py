"""The drift check's full report: the JSON document written beside the HTML report.

`schemaVersion` changes whenever a field changes meaning or disappears; readers
check it. The compact summary the operator reads is `results.CheckSummary`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import DriftSettings
from kubedrift.models.results import DataFingerprint

# 2: report.json lists the report's other files with their SHA-256 (`files`).
# 3: the scheduled time, and the data files read per side (fingerprints carry their windows).
REPORT_SCHEMA_VERSION = 3

ColumnRole = Literal["feature", "target", "prediction"]
ColumnStatus = Literal["tested", "all_null", "empty", "high_cardinality", "unsupported", "missing"]


class NumericalSummary(Model):
    """Summary statistics of the non-null, finite values of one side."""

    count: int = Field(description="Finite values.")
    mean: float | None = Field(default=None, description="Mean.")
    std: float | None = Field(default=None, description="Population standard deviation.")
    min: float | None = Field(default=None, description="Smallest value.")
    p25: float | None = Field(default=None, description="25th percentile.")
    median: float | None = Field(default=None, description="Median.")
    p75: float | None = Field(default=None, description="75th percentile.")
    max: float | None = Field(default=None, description="Largest value.")


class CategoricalSummary(Model):
    """Summary of the non-null values of one side."""

    count: int = Field(description="Non-null values.")
    distinct: int = Field(description="Distinct values.")


class Histogram(Model):
    """Reference and current distributions on the same bins, as shares of non-null rows."""

    edges: list[float] | None = Field(default=None, description="Bin edges of a numerical column.")
    categories: list[str] | None = Field(
        default=None, description="The most frequent categories; `other` holds the rest."
    )
    reference: list[float] = Field(description="Reference share per bin or category.")
    current: list[float] = Field(description="Current share per bin or category.")
    other_reference: float = Field(default=0.0, description="Reference share of categories not shown.")
    other_current: float = Field(default=0.0, description="Current share of categories not shown.")


class ColumnResult(Model):
    """One column's verdict and everything that led to it."""

    name: str = Field(description="Column name.")
    role: ColumnRole = Field(description="feature, target or prediction.")
    status: ColumnStatus = Field(description="tested, or why the column was not tested.")
    reason: str | None = Field(
        default=None, description="Why the column was not tested, or not decided (uncertain), for people."
    )
    column_type: Literal["numerical", "categorical"] | None = Field(default=None, description="Column type.")
    type_source: Literal["spec", "inferred"] | None = Field(
        default=None, description="Where the type came from."
    )
    arrow_type: str | None = Field(default=None, description="The Parquet column's Arrow type.")
    method: str | None = Field(default=None, description="The stat test.")
    method_kind: Literal["p_value", "distance"] | None = Field(
        default=None, description="p-value or distance."
    )
    overridden: bool = Field(default=False, description="Whether the spec chose the method or threshold.")
    threshold: float | None = Field(default=None, description="The threshold the score was compared with.")
    score: float | None = Field(default=None, description="The test's p-value or distance.")
    adjusted_score: float | None = Field(
        default=None, description="The p-value after multiple-testing correction, when one applied."
    )
    drifted: bool = Field(default=False, description="Whether the column drifted.")
    score_error: float | None = Field(
        default=None,
        description="How far the score may be from the exact one (at 99% confidence): set when the "
        "reference profile is a sketch, absent when the score is exact.",
    )
    uncertain: bool = Field(
        default=False,
        description="Neither drifted nor not: the score lies within scoreError of the threshold, or a "
        "p-value could not be read finely enough from the sketch (no score then; see reason). Not "
        "counted as drifted; the dataset verdict says whether it could flip.",
    )
    rows_reference: int = Field(default=0, description="Reference rows.")
    rows_current: int = Field(default=0, description="Current rows.")
    rows_absent_reference: int = Field(
        default=0,
        description="Reference rows from files without this column: not in rowsReference, not counted as "
        "null (the column is tested on the rows that have it).",
    )
    rows_absent_current: int = Field(
        default=0, description="Current rows from files without this column (as rowsAbsentReference)."
    )
    distinct_values: int | None = Field(
        default=None,
        description="Distinct values of both sides together; above 100,000 distinct values on one side, "
        "that side's count (a lower bound).",
    )
    null_share_reference: float = Field(default=0.0, description="Reference share of null, NaN or ±inf.")
    null_share_current: float = Field(default=0.0, description="Current share of null, NaN or ±inf.")
    null_share_changed: bool = Field(
        default=False, description="Whether the null share changed significantly (its own finding)."
    )
    null_share_p_value: float | None = Field(
        default=None, description="Two-proportion z-test of null shares."
    )
    unseen_categories: list[str] = Field(
        default_factory=list, description="Current categories absent from the reference (first 50)."
    )
    unseen_categories_total: int = Field(default=0, description="How many current categories are unseen.")
    unseen_share_current: float = Field(
        default=0.0, description="Share of current rows in unseen categories."
    )
    notes: list[str] = Field(
        default_factory=list, description="Things worth knowing, e.g. a constant column."
    )
    reference_summary: NumericalSummary | CategoricalSummary | None = Field(
        default=None, description="Reference."
    )
    current_summary: NumericalSummary | CategoricalSummary | None = Field(
        default=None, description="Current."
    )
    histogram: Histogram | None = Field(default=None, description="Both distributions on the same bins.")
    seconds: float = Field(default=0.0, description="Time spent on this column.")


class DatasetVerdict(Model):
    """Whether the dataset as a whole drifted: the share of drifted feature columns."""

    drifted: bool = Field(description="share ≥ threshold.")
    drift_share: float = Field(
        description="Drifted feature columns / tested feature columns (uncertain ones count as tested, "
        "not drifted)."
    )
    threshold: float = Field(description="datasetDriftShare.")
    columns_tested: int = Field(description="Feature columns that were tested.")
    columns_drifted: int = Field(description="Feature columns that drifted.")
    drifted_columns: list[str] = Field(description="Names of drifted feature columns.")
    skipped_columns: list[str] = Field(description="Feature columns that could not be tested.")
    null_share_changes: list[str] = Field(description="Columns whose null share changed significantly.")
    columns_uncertain: int = Field(
        default=0,
        description="Tested feature columns whose verdict is uncertain (counted in columnsTested, not in "
        "columnsDrifted).",
    )
    uncertain_columns: list[str] = Field(
        default_factory=list, description="Names of the uncertain feature columns."
    )
    uncertain: bool = Field(
        default=False,
        description="Whether the uncertain columns could flip the verdict: not drifted as reported, but "
        "drifted if every uncertain column drifted.",
    )


class ReportFile(Model):
    """One of the report's other files, as report.json vouches for it."""

    sha256: str = Field(description="SHA-256 of the file's bytes, hex.")
    size: int = Field(ge=0, description="Its length in bytes.")


ProfileStatus = Literal["used", "built", "extended", "rejected"]


class ReferenceProfileUse(Model):
    """Whether the check took the reference side from a stored reference profile, and why not."""

    status: ProfileStatus = Field(
        description="used: every column came from the stored profile (the reference's data was not "
        "read, but for a test that needs values a sketched column does not keep: see reason); built: "
        "there was none, the check built it from the reference and stored it; extended: "
        "the stored profile lacked some columns, which were read and added; rejected: a stored profile "
        "(or some of its columns) was refused (see reason), the reference was read and the profile "
        "rebuilt."
    )
    uri: str = Field(description="The profile's folder.")
    format: int = Field(description="The profile format version this check reads and writes.")
    reason: str | None = Field(default=None, description="Why a stored profile was not used whole.")
    columns_from_profile: int = Field(default=0, description="Columns whose reference side came from it.")
    columns_read: int = Field(default=0, description="Columns whose reference side was read from the data.")
    stored: bool = Field(default=False, description="Whether this check wrote the profile (or part of it).")
    store_failure: str | None = Field(
        default=None, description="Why writing the profile failed (the check itself went on)."
    )
    removed: list[str] = Field(
        default_factory=list,
        description="Older profiles of this check (their keys) that this check removed when it stored "
        "its own: the newest few are kept (a profile is about as big as the reference's numbers).",
    )


class DriftReport(Model):
    """The full result of one drift check."""

    schema_version: int = Field(default=REPORT_SCHEMA_VERSION, description="The report format's version.")
    check: str = Field(description="The DriftCheck's name.")
    namespace: str = Field(description="The DriftCheck's namespace.")
    started_at: datetime = Field(description="When the check started.")
    finished_at: datetime = Field(description="When the check finished.")
    reference: DataFingerprint = Field(description="The reference data version.")
    current: DataFingerprint = Field(description="The current data version.")
    settings: DriftSettings = Field(description="The drift settings in force.")
    dataset: DatasetVerdict = Field(description="The dataset verdict.")
    target: ColumnResult | None = Field(default=None, description="The target's own verdict.")
    prediction: ColumnResult | None = Field(default=None, description="The prediction's own verdict.")
    columns: list[ColumnResult] = Field(description="Feature columns, drifted first.")
    timings: dict[str, float] = Field(description="Seconds per phase.")
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time the windows were resolved with."
    )
    files_read: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The data files read, per side (reference, current), relative to the side's uri.",
    )
    reference_profile: ReferenceProfileUse | None = Field(
        default=None, description="Whether the reference side came from a stored reference profile."
    )
    report_uri: str = Field(description="The folder holding report.json and report.html.")
    files: dict[str, ReportFile] = Field(
        default_factory=dict,
        description="The folder's other files (name → digest). report.json is written last, so it "
        "is the claim that the report is complete; a reader trusts a file only if it matches.",
    )

    @property
    def when(self) -> datetime:
        """The time the check stands for on a time axis: its scheduled time, or when it finished."""
        return self.scheduled_at or self.finished_at
