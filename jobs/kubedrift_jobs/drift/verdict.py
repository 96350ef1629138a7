"""From per-column results to the dataset verdict: correction first, then the drift share.

Only tested feature columns count. The target and prediction get their own
verdicts, skipped columns are listed, and null-share changes are a separate
finding: none of them is folded silently into the share.
"""

from __future__ import annotations

from kubedrift.models.driftcheck import DriftSettings
from kubedrift.models.report import ColumnResult, DatasetVerdict
from kubedrift_jobs.drift import registry
from kubedrift_jobs.drift.correction import adjust


def apply_correction(results: list[ColumnResult], settings: DriftSettings) -> list[ColumnResult]:
    """Re-decide the p-value tests of feature columns on corrected p-values."""
    if settings.correction == "none":
        return results
    family = [
        i
        for i, r in enumerate(results)
        if r.status == "tested"
        and r.role == "feature"
        and r.method_kind == "p_value"
        and r.score is not None
        and r.score_error is None  # a p-value read off a sketch keeps its own (uncertain) verdict
    ]
    adjusted = adjust([results[i].score for i in family], settings.correction)  # type: ignore[misc]
    corrected = list(results)
    for i, p in zip(family, adjusted, strict=True):
        r = results[i]
        test = registry.get(r.method)  # type: ignore[arg-type]
        corrected[i] = r.model_copy(
            update={"adjusted_score": p, "drifted": test.drifted(p, r.threshold)}  # type: ignore[arg-type]
        )
    return corrected


def dataset_verdict(features: list[ColumnResult], settings: DriftSettings) -> DatasetVerdict:
    """The share of drifted columns among the tested. An uncertain column (a sketch's score
    within its bound of the threshold) is tested but not drifted: the verdict is drifted only
    if it is without them, and uncertain if they could make it so."""
    tested = [r for r in features if r.status == "tested"]
    drifted = [r.name for r in tested if r.drifted]
    uncertain = [r.name for r in tested if r.uncertain]
    share = len(drifted) / len(tested) if tested else 0.0
    is_drifted = bool(tested) and share >= settings.dataset_drift_share
    could_drift = (
        bool(tested) and (len(drifted) + len(uncertain)) / len(tested) >= settings.dataset_drift_share
    )
    return DatasetVerdict(
        drifted=is_drifted,
        drift_share=share,
        threshold=settings.dataset_drift_share,
        columns_tested=len(tested),
        columns_drifted=len(drifted),
        drifted_columns=drifted,
        skipped_columns=[r.name for r in features if r.status != "tested"],
        null_share_changes=[r.name for r in features if r.null_share_changed],
        columns_uncertain=len(uncertain),
        uncertain_columns=uncertain,
        uncertain=not is_drifted and could_drift,
    )


def report_order(features: list[ColumnResult]) -> list[ColumnResult]:
    """Drifted columns first, then the other tested ones, then the skipped; by name within each."""
    return sorted(features, key=lambda r: (not r.drifted, r.status != "tested", r.name))
