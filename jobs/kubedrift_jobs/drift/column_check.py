"""One column pair in, one `ColumnResult` out: status, type, method, score, verdict and the
distributions for the report. Pure apart from the Arrow-to-numpy conversion; no I/O.

The reference side is always its profile (`profile.py`): stored by an earlier check of the same
reference, or built from the column just before; either gives the same result. The current side
is its column, or (a sharded check) its profile merged from the indexes' partials: the check takes
the same counts, values and types of either, so both give the same result. A numerical side kept
as a sketch (a large reference, or a sharded check's large current) is scored by
`sketch_scores.py`, with an error bound and, near the threshold, an uncertain verdict."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from kubedrift.models.driftcheck import DriftSettings
from kubedrift.models.report import (
    CategoricalSummary,
    ColumnResult,
    ColumnRole,
    Histogram,
    NumericalSummary,
)
from kubedrift_jobs.drift import sketch_scores
from kubedrift_jobs.drift.binning import distinct_count, histogram_of_sorted
from kubedrift_jobs.drift.column_types import ColumnType, Inferred, infer, infer_type
from kubedrift_jobs.drift.profile import ColumnProfile
from kubedrift_jobs.drift.samples import (
    CategoricalPair,
    NumericalSample,
    categorical_pair,
    numerical_sample,
    numerical_summary,
    profile_pair,
)
from kubedrift_jobs.drift.selection import Choice, choose

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20
UNSEEN_LISTED = 50
# A null share "changed" when a two-proportion z-test says so and it moved by at least a
# percentage point: at millions of rows the test alone flags differences nobody cares about.
NULL_SHARE_P = 0.05
NULL_SHARE_MIN_CHANGE = 0.01
EXACT_DISTINCT_LIMIT = 100_000
# Below this many values on a side a test has little power (and a p-value of one row means
# little): the column is still tested, with a note saying so.
SMALL_SAMPLE = 30


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    role: ColumnRole
    declared: ColumnType | None  # from the spec; None means inferred


@dataclass(frozen=True)
class CurrentProfile:
    """The current column as a profile: a sharded check's partials, merged."""

    profile: ColumnProfile
    arrow_type: pa.DataType  # the column's own (a profile keeps float32 values as float64)


@dataclass(frozen=True)
class _Current:
    """What the check takes of the current side, from its column or its profile."""

    rows: int
    nulls: int
    arrow_type: pa.DataType
    column: pa.ChunkedArray | None = None
    profile: ColumnProfile | None = None

    @classmethod
    def of(cls, current: pa.ChunkedArray | CurrentProfile) -> _Current:
        if isinstance(current, CurrentProfile):
            p = current.profile
            return cls(rows=p.rows, nulls=p.nulls, arrow_type=current.arrow_type, profile=p)
        return cls(rows=len(current), nulls=current.null_count, arrow_type=current.type, column=current)

    def inferred(self) -> Inferred:
        if self.column is not None:
            return infer(self.column)
        assert self.profile is not None
        profile = self.profile

        def distinct() -> int:
            if profile.form == "sketch":  # numbers past the exact limit: the distinct count it kept
                return profile.finite_distinct or 0
            return len(profile.distinct()[0])

        return infer_type(self.arrow_type, lambda: (profile.rows - profile.nulls, distinct()))

    @property
    def sketched(self) -> bool:
        return self.profile is not None and self.profile.form == "sketch"

    def numerical(self) -> NumericalSample:
        if self.column is not None:
            return numerical_sample(self.column)
        assert self.profile is not None
        return self.profile.numerical()

    def pair(self, reference: ColumnProfile) -> CategoricalPair:
        if self.column is not None:
            return categorical_pair(reference, self.column)
        assert self.profile is not None
        return profile_pair(reference, self.profile, self.arrow_type)


def check_column(
    plan: ColumnPlan,
    reference: ColumnProfile,
    current_side: pa.ChunkedArray | CurrentProfile,
    settings: DriftSettings,
) -> ColumnResult:
    started = time.perf_counter()
    current = _Current.of(current_side)
    base = {
        "name": plan.name,
        "role": plan.role,
        "arrow_type": str(current.arrow_type),
        "rows_reference": reference.rows,
        "rows_current": current.rows,
        "null_share_reference": _share(reference.nulls, reference.rows),
        "null_share_current": _share(current.nulls, current.rows),
    }
    # Before inference: an all-null column (Arrow type `null` included) is all-null, not "unsupported".
    for side, rows, nulls in (
        ("reference", reference.rows, reference.nulls),
        ("current", current.rows, current.nulls),
    ):
        if rows == 0:
            return ColumnResult(status="empty", reason=f"no {side} rows have this column", **base)
        if nulls == rows:
            return ColumnResult(status="all_null", reason=f"every {side} value is null", **base)
    inferred = Inferred(plan.declared) if plan.declared else current.inferred()
    if inferred.column_type is None:
        return ColumnResult(status=inferred.skip_status, reason=inferred.reason, **base)
    base["column_type"] = inferred.column_type
    base["type_source"] = "spec" if plan.declared else "inferred"
    if inferred.column_type == "categorical" and (reference.form == "sketch" or current.sketched):
        reason = "categorical, but a profile of it is a sketch of its numbers (no values to count)"
        return ColumnResult(status="unsupported", reason=reason, **base)
    if inferred.column_type == "numerical":
        with np.errstate(over="ignore", invalid="ignore"):  # finite values near ±1.8e308 overflow sums
            result = _numerical(reference, current, plan, settings, base)
    else:
        result = _categorical(reference, current, plan, settings, base)
    return result.model_copy(update={"seconds": time.perf_counter() - started})


def _numerical(
    reference: ColumnProfile,
    current: _Current,
    plan: ColumnPlan,
    settings: DriftSettings,
    base: dict[str, object],
) -> ColumnResult:
    if reference.form == "sketch" or current.sketched:
        return _numerical_sketched(reference, current, plan, settings, base)
    ref, cur = reference.numerical(), current.numerical()
    base |= _nulls(ref.missing, ref.rows, cur.missing, cur.rows)
    infinite = _infinite_note(ref.infinite, cur.infinite)
    if ref.values.size == 0 or cur.values.size == 0:
        side = "reference" if ref.values.size == 0 else "current"
        return ColumnResult(
            status="empty",
            reason=f"no finite {side} values (only null, NaN or ±inf)",
            notes=infinite,
            **base,
        )
    distinct = _distinct_union(ref.values, cur.values, reference.finite_distinct)
    choice = choose(plan.name, "numerical", ref.values.size, distinct, settings)
    summary = reference.summary or numerical_summary(ref.values)
    score, drifted = choice.test.run(ref.values, cur.values, "numerical", choice.threshold, summary.std)
    return _tested(
        choice,
        score,
        drifted,
        distinct,
        (ref.values.size, cur.values.size),
        infinite,
        reference_summary=summary,
        current_summary=numerical_summary(cur.values),
        histogram=_numerical_histogram(ref.values, cur.values),
        **base,
    )


def _numerical_sketched(
    reference: ColumnProfile,
    current: _Current,
    plan: ColumnPlan,
    settings: DriftSettings,
    base: dict[str, object],
) -> ColumnResult:
    """A side kept as a sketch (`sketch_scores.py`): the score comes with its error bound, and a
    score within it of the threshold is uncertain rather than a verdict."""
    ref_summary, ref_side, ref_distinct = _numbers_of(reference)
    cur_profile = current.profile if current.sketched else None
    if cur_profile is not None:
        cur_summary, cur_side, cur_distinct = _numbers_of(cur_profile)
        cur_infinite = cur_profile.infinite
    else:
        cur = current.numerical()
        cur_summary = numerical_summary(cur.values) if cur.values.size else None
        cur_side = sketch_scores.exact_side(cur.values) if cur.values.size else None
        cur_distinct, cur_infinite = distinct_count(cur.values), cur.infinite
    ref_count = ref_summary.count if ref_summary else 0
    cur_count = cur_summary.count if cur_summary else 0
    base |= _nulls(reference.rows - ref_count, reference.rows, current.rows - cur_count, current.rows)
    infinite = _infinite_note(reference.infinite, cur_infinite)
    if ref_side is None or cur_side is None or ref_summary is None or ref_summary.std is None:
        side = "reference" if ref_side is None else "current"
        return ColumnResult(
            status="empty", reason=f"no finite {side} values (only null, NaN or ±inf)", notes=infinite, **base
        )
    # A lower bound (a sketch keeps no values to compare): selection only asks whether it exceeds 5.
    distinct = max(ref_distinct or 0, cur_distinct or 0)
    choice = choose(plan.name, "numerical", ref_count, distinct, settings)
    if choice.test.name not in sketch_scores.SKETCH_TESTS:
        which = "reference's" if reference.form == "sketch" else "current data's"
        return ColumnResult(
            status="unsupported",
            reason=f"{choice.test.name} needs the {which} values, and its profile is a sketch "
            f"(tests read from a sketch: {', '.join(sketch_scores.SKETCH_TESTS)})",
            notes=infinite,
            **base,
        )
    read = sketch_scores.read(
        choice.test.name, ref_side, cur_side, ref_summary.std, ref_distinct, choice.threshold
    )
    fields: dict[str, object] = base | {
        "reference_summary": ref_summary,
        "current_summary": cur_summary,
        "histogram": _sketched_histogram(ref_side, cur_side),
    }
    sizes = (ref_count, cur_count)
    if isinstance(read, str):  # no score to give: never a noisy p-value
        result = _tested(choice, None, False, distinct, sizes, infinite, **fields)
        return result.model_copy(update={"uncertain": True, "reason": read})
    uncertain = abs(read.score - choice.threshold) <= read.error
    notes = list(infinite)
    if uncertain:
        notes.append(
            f"uncertain: {read.score:.4g} ± {read.error:.2g} (read from a sketch) reaches across "
            f"the threshold {choice.threshold:g}; neither drifted nor not"
        )
    drifted = choice.test.drifted(read.score, choice.threshold) and not uncertain
    result = _tested(choice, read.score, drifted, distinct, sizes, notes, **fields)
    return result.model_copy(update={"score_error": read.error, "uncertain": uncertain})


def _numbers_of(
    profile: ColumnProfile,
) -> tuple[NumericalSummary | None, sketch_scores.Side | None, int | None]:
    """A profile's finite values as the sketched path reads them: summary, side, distinct count."""
    summary = profile.summary
    if profile.form != "sketch":
        values = profile.numerical().values
        if values.size == 0:
            return None, None, 0
        summary = summary or numerical_summary(values)
        return summary, sketch_scores.exact_side(values), profile.finite_distinct or distinct_count(values)
    return summary, sketch_scores.profile_side(profile), profile.finite_distinct


def _categorical(
    reference: ColumnProfile,
    current: _Current,
    plan: ColumnPlan,
    settings: DriftSettings,
    base: dict[str, object],
) -> ColumnResult:
    pair = current.pair(reference)
    base |= _nulls(pair.missing_reference, pair.rows_reference, pair.missing_current, pair.rows_current)
    ref_size, cur_size = pair.reference_size, pair.current_size
    if ref_size == 0 or cur_size == 0:
        side = "reference" if ref_size == 0 else "current"
        return ColumnResult(status="empty", reason=f"no usable {side} values (only null or NaN)", **base)
    ref_counts, cur_counts = pair.reference_counts, pair.current_counts
    seen = (ref_counts + cur_counts) > 0
    distinct = int(np.count_nonzero(seen))
    choice = choose(plan.name, "categorical", ref_size, distinct, settings)
    score, drifted = choice.test.run_counts(ref_counts[seen], cur_counts[seen], choice.threshold)
    unseen = np.flatnonzero((ref_counts == 0) & (cur_counts > 0))
    return _tested(
        choice,
        score,
        drifted,
        distinct,
        (ref_size, cur_size),
        [],
        unseen_categories=[pair.labels[i] for i in unseen[:UNSEEN_LISTED]],
        unseen_categories_total=int(unseen.size),
        unseen_share_current=float(cur_counts[unseen].sum() / cur_size),
        reference_summary=CategoricalSummary(count=ref_size, distinct=int(np.count_nonzero(ref_counts))),
        current_summary=CategoricalSummary(count=cur_size, distinct=int(np.count_nonzero(cur_counts))),
        histogram=_categorical_histogram(pair.labels, ref_counts, cur_counts),
        **base,
    )


def _tested(
    choice: Choice,
    score: float | None,
    drifted: bool,
    distinct: int,
    sizes: tuple[int, int],
    notes: list[str],
    **fields: object,
) -> ColumnResult:
    """A tested column: the verdict of the chosen test, plus what only its type knows."""
    notes = list(notes)
    if distinct == 1:
        notes.append("constant: one and the same value on both sides")
    for side, size in zip(("reference", "current"), sizes, strict=True):
        if size < SMALL_SAMPLE:
            notes.append(
                f"small sample: {size} {side} value{'s' if size != 1 else ''} (fewer than {SMALL_SAMPLE}); "
                "the test says little either way"
            )
    if score is not None and math.isnan(score):
        notes.append(f"{choice.test.name} is undefined on these values (too few or too alike); not drift")
    return ColumnResult(
        status="tested",
        method=choice.test.name,
        method_kind=choice.test.kind,
        overridden=choice.overridden,
        threshold=choice.threshold,
        score=score,
        drifted=drifted,
        distinct_values=distinct,
        notes=notes,
        **fields,
    )


def _infinite_note(reference: int, current: int) -> list[str]:
    if not reference and not current:
        return []
    return [
        f"±inf values counted as missing: {reference} reference, {current} current "
        "(training imputes them like nulls)"
    ]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _nulls(missing_ref: int, rows_ref: int, missing_cur: int, rows_cur: int) -> dict[str, object]:
    p = null_share_p_value(missing_ref, rows_ref, missing_cur, rows_cur)
    ref_share, cur_share = _share(missing_ref, rows_ref), _share(missing_cur, rows_cur)
    changed = p < NULL_SHARE_P and abs(ref_share - cur_share) >= NULL_SHARE_MIN_CHANGE
    return {
        "null_share_reference": ref_share,
        "null_share_current": cur_share,
        "null_share_p_value": p,
        "null_share_changed": bool(changed),
    }


def null_share_p_value(missing_ref: int, rows_ref: int, missing_cur: int, rows_cur: int) -> float:
    """Two-sided two-proportion z-test of the missing shares."""
    if rows_ref == 0 or rows_cur == 0:
        return 1.0
    pooled = (missing_ref + missing_cur) / (rows_ref + rows_cur)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (missing_ref / rows_ref - missing_cur / rows_cur) / np.sqrt(
        pooled * (1 - pooled) * (1 / rows_ref + 1 / rows_cur)
    )
    return math.erfc(abs(float(z)) / math.sqrt(2))  # = 2·(1 − Φ(|z|))


def _distinct_union(ref: np.ndarray, cur: np.ndarray, ref_known: int | None = None) -> int:
    """Distinct values of both sorted samples together (`ref_known`: the reference's count, if
    its profile has it).

    Exact when it decides anything: selection only asks whether it exceeds 5, and
    once one side alone has more than EXACT_DISTINCT_LIMIT distinct values the
    union is reported as that lower bound (finding it exactly costs a search of
    one side's values in the other's, the slowest step of a large column).
    """
    ref_distinct = distinct_count(ref) if ref_known is None else ref_known
    cur_distinct = distinct_count(cur)
    if max(ref_distinct, cur_distinct) > EXACT_DISTINCT_LIMIT:
        return max(ref_distinct, cur_distinct)
    ref_unique = ref[np.concatenate([[True], ref[1:] != ref[:-1]])]
    cur_unique = cur[np.concatenate([[True], cur[1:] != cur[:-1]])]
    positions = np.searchsorted(ref_unique, cur_unique)
    found = positions < ref_unique.size
    found[found] = ref_unique[positions[found]] == cur_unique[found]
    return int(ref_unique.size + cur_unique.size - np.count_nonzero(found))


def _numerical_histogram(ref: np.ndarray, cur: np.ndarray) -> Histogram:
    low, high = float(min(ref[0], cur[0])), float(max(ref[-1], cur[-1]))
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    return Histogram(
        edges=[float(e) for e in edges],
        reference=[float(x) for x in histogram_of_sorted(ref, edges) / ref.size],
        current=[float(x) for x in histogram_of_sorted(cur, edges) / cur.size],
    )


def _sketched_histogram(ref: sketch_scores.Side, cur: sketch_scores.Side) -> Histogram:
    low, high = min(ref.low, cur.low), max(ref.high, cur.high)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    return Histogram(
        edges=[float(e) for e in edges],
        reference=[float(x) for x in sketch_scores.histogram_shares(ref, edges)],
        current=[float(x) for x in sketch_scores.histogram_shares(cur, edges)],
    )


def _categorical_histogram(labels: list[str], ref_counts: np.ndarray, cur_counts: np.ndarray) -> Histogram:
    ref_total, cur_total = max(int(ref_counts.sum()), 1), max(int(cur_counts.sum()), 1)
    weight = ref_counts / ref_total + cur_counts / cur_total
    top = np.argsort(-weight, kind="stable")[:TOP_CATEGORIES]
    top = top[weight[top] > 0]
    return Histogram(
        categories=[labels[i] for i in top],
        reference=[float(ref_counts[i] / ref_total) for i in top],
        current=[float(cur_counts[i] / cur_total) for i in top],
        other_reference=float(1 - ref_counts[top].sum() / ref_total),
        other_current=float(1 - cur_counts[top].sum() / cur_total),
    )
