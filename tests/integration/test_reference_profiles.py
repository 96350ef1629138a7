"""Reference profiles end to end on local Parquet: the same verdicts, reuse, and every refusal."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.errors import ConfigError
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.profile import FORMAT_VERSION
from kubedrift_jobs.drift.profile_store import PROFILES_KEPT

NUMERICAL_METHODS = [
    "ks",
    "wasserstein",
    "anderson",
    "cramer_von_mises",
    "mannwhitney",
    "t_test",
    "energy_distance",
    "psi",
    "kl_div",
    "hellinger",
    "jensenshannon",
    "chisquare",
]
CATEGORICAL_METHODS = ["chisquare", "jensenshannon", "psi", "kl_div", "hellinger"]


def table(rows: int, seed: int, shift: float) -> pa.Table:
    """Every kind of column the check meets: floats with null/NaN/±inf, ties, small and wide
    integers, text, dictionary text, bool, decimals, a date, all-null, constant, free text."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(shift, 1, rows)
    normal[rng.random(rows) < 0.03] = np.nan
    normal[:3] = [np.inf, -np.inf, np.inf]
    nulls = rng.random(rows) < 0.05
    categories = np.array(["red", "green", "blue", "grey"])
    weights = np.array([4, 3, 2, 1 + 3 * shift]) / (10 + 3 * shift)
    return pa.table(
        {
            "f_normal": pa.array(normal, mask=nulls),
            "f_ties": np.round(rng.gamma(2 + shift, 3, rows), 0),
            "f_const": np.full(rows, 1.5),
            "i_small": pa.array(rng.integers(0, 6, rows), pa.int32()),
            "i_wide": pa.array(rng.integers(0, 10**9, rows) + int(shift * 10**8), pa.int64()),
            "s_cat": pa.array(rng.choice(categories, rows, p=weights), mask=nulls),
            "s_dict": pa.array(rng.choice(categories[:3], rows)).dictionary_encode(),
            "b_flag": pa.array(rng.random(rows) < 0.3 + shift / 5),
            "d_amount": pa.array(
                [Decimal(int(v)) / 100 for v in rng.integers(0, 500, rows)], pa.decimal128(8, 2)
            ),
            "t_day": pa.array(
                np.datetime64("2024-01-01") + rng.integers(0, 30, rows).astype("timedelta64[D]")
            ),
            "n_none": pa.nulls(rows, pa.float64()),
            "s_text": pa.array([f"id-{seed}-{i}" for i in range(rows)]),
            "target": rng.normal(shift, 2, rows),
        }
    )


def write_sides(folder: Path, rows: int, reference_seed: int = 1) -> tuple[Path, Path]:
    """A reference of two files (one of them without `i_wide`) and a shifted current."""
    reference, current = folder / "reference", folder / "current.parquet"
    reference.mkdir(parents=True, exist_ok=True)
    whole = table(rows, reference_seed, 0.0)
    half = rows // 2
    pq.write_table(whole.slice(0, half), reference / "part-0.parquet")
    pq.write_table(whole.slice(half).drop_columns(["i_wide"]), reference / "part-1.parquet")
    pq.write_table(table(rows, 2, 0.4), current)
    return reference, current


def check(
    tmp_path: Path, reference: Path, current: Path, drift: dict[str, Any] | None = None, **columns: Any
) -> DriftReport:
    config = CheckJobConfig.from_wire(
        {
            "check": "profiles",
            "reference": {"uri": str(reference)},
            "current": {"uri": str(current)},
            "columns": {"target": "target", **columns},
            "drift": drift or {},
            "storage": {"reportsUri": str(tmp_path / "reports")},
        }
    )
    return run_check(config, str(tmp_path / "reports" / "profiles" / "report"))


def verdicts(report: DriftReport) -> list[dict[str, Any]]:
    """Every column's result but its timing (the only field allowed to differ)."""
    results: list[ColumnResult] = [*report.columns, *(c for c in (report.target, report.prediction) if c)]
    return [c.model_dump(exclude={"seconds"}) for c in results]


def profile_folder(report: DriftReport) -> Path:
    assert report.reference_profile is not None
    return Path(report.reference_profile.uri)


DRIFT_SETTINGS: list[dict[str, Any]] = [
    {},
    {
        "perColumn": {"f_normal": {"method": "ks"}, "f_ties": {"method": "anderson"}},
        "correction": "bonferroni",
    },
    *(
        {"numerical": {"method": n}, "categorical": {"method": c}}
        for n, c in zip(NUMERICAL_METHODS, CATEGORICAL_METHODS * 3, strict=False)
    ),
]


@pytest.mark.parametrize("rows", [400, 3000])  # both sides of the 1,000-row method boundary
def test_every_column_scores_the_same_with_a_stored_profile_as_without(tmp_path: Path, rows: int) -> None:
    reference, current = write_sides(tmp_path / "data", rows)
    for number, drift in enumerate(DRIFT_SETTINGS):
        place = tmp_path / f"settings-{number}"
        declared = {"categorical": ["f_ties"]} if number > 1 and number % 2 else {}  # floats as categories
        without = check(place, reference, current, drift, **declared)
        stored = check(place, reference, current, drift, **declared)
        assert without.reference_profile is not None and without.reference_profile.status == "built"
        assert stored.reference_profile is not None and stored.reference_profile.status == "used", drift
        assert stored.reference_profile.columns_read == 0
        assert verdicts(stored) == verdicts(without), drift
        assert stored.dataset == without.dataset
    tested = {c.name: c for c in without.columns if c.status == "tested"}
    assert {"f_normal", "f_ties", "i_small", "i_wide", "s_cat", "s_dict", "b_flag", "d_amount"} <= set(tested)
    assert {c.name: c.status for c in without.columns if c.status != "tested"} == {
        "t_day": "unsupported",
        "n_none": "all_null",
        "s_text": "high_cardinality",
    }


def test_the_profile_is_built_once_and_holds_every_column_checked(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    first = check(tmp_path, reference, current)
    folder = profile_folder(first)
    manifest = json.loads((folder / "profile.json").read_text())
    assert manifest["format"] == FORMAT_VERSION
    assert manifest["reference"]["contentHash"] == first.reference.content_hash
    assert set(manifest["columns"]) == {
        c.name for c in [*first.columns, first.target] if c and c.status != "missing"
    }
    written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert first.reference_profile is not None and first.reference_profile.stored
    assert first.reference_profile.columns_read == len(manifest["columns"])
    for _ in range(2):
        again = check(tmp_path, reference, current)
        assert again.reference_profile is not None
        assert (again.reference_profile.status, again.reference_profile.stored) == ("used", False)
        assert again.reference_profile.columns_from_profile == len(manifest["columns"])
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written  # nothing rewritten


def test_a_check_with_more_columns_extends_the_profile(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    narrow = check(tmp_path, reference, current, exclude=["f_normal", "s_cat"])
    wide = check(tmp_path, reference, current)
    assert wide.reference_profile is not None and narrow.reference_profile is not None
    assert (wide.reference_profile.status, wide.reference_profile.columns_read) == ("extended", 2)
    assert "lacked 2 of the columns" in str(wide.reference_profile.reason)
    assert wide.reference_profile.uri == narrow.reference_profile.uri
    last = check(tmp_path, reference, current)
    assert last.reference_profile is not None and last.reference_profile.status == "used"
    assert verdicts(last) == verdicts(wide)


def rejected_then_used(tmp_path: Path, reference: Path, current: Path, reason: str, read: int) -> DriftReport:
    """The check refuses the stored profile (saying why), reads the reference, stores the profile
    anew, and gives the verdicts of a check without any; the next check uses the new profile."""
    report = check(tmp_path, reference, current)
    use = report.reference_profile
    assert use is not None and use.status == "rejected" and use.stored
    assert reason in str(use.reason)
    assert use.columns_read == read
    fresh = check(tmp_path / "fresh", reference, current)
    assert verdicts(report) == verdicts(fresh)
    again = check(tmp_path, reference, current)
    assert again.reference_profile is not None and again.reference_profile.status == "used"
    assert verdicts(again) == verdicts(fresh)
    return report


def test_a_profile_of_another_format_version_is_rejected_and_rebuilt(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    built = check(tmp_path, reference, current)
    manifest_path = profile_folder(built) / "profile.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(manifest))
    columns = len(manifest["columns"])
    rejected_then_used(tmp_path, reference, current, f"profile format {FORMAT_VERSION + 1}", read=columns)


def test_a_tampered_column_file_is_rejected_and_only_that_column_read(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    built = check(tmp_path, reference, current)
    manifest = json.loads((profile_folder(built) / "profile.json").read_text())
    column_file = profile_folder(built) / manifest["columns"]["f_normal"]["file"]
    data = bytearray(column_file.read_bytes())
    data[len(data) // 2] ^= 0x40  # one bit of one value
    column_file.write_bytes(bytes(data))
    report = rejected_then_used(tmp_path, reference, current, "column 'f_normal': its file differs", read=1)
    assert report.reference_profile is not None
    assert report.reference_profile.columns_from_profile == len(manifest["columns"]) - 1


def test_a_profile_of_other_reference_data_is_rejected(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    other, _ = write_sides(tmp_path / "other", 800, reference_seed=9)
    ours = check(tmp_path, reference, current)
    theirs = check(tmp_path, other, current)
    assert profile_folder(ours) != profile_folder(theirs)
    shutil.rmtree(profile_folder(ours))
    shutil.copytree(profile_folder(theirs), profile_folder(ours))  # a foreign profile in our place
    rejected_then_used(
        tmp_path,
        reference,
        current,
        f"built from reference data version {theirs.reference.version}, not {ours.reference.version}",
        read=len(json.loads((profile_folder(theirs) / "profile.json").read_text())["columns"]),
    )


def test_a_missing_column_file_is_rejected(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    built = check(tmp_path, reference, current)
    manifest = json.loads((profile_folder(built) / "profile.json").read_text())
    (profile_folder(built) / manifest["columns"]["s_cat"]["file"]).unlink()
    rejected_then_used(tmp_path, reference, current, "column 's_cat': its file", read=1)


def test_windows_of_one_reference_file_have_profiles_of_their_own(tmp_path: Path) -> None:
    """A window over a timestamp column reads some rows of the same files: other rows, so another
    profile (the window is in the data version, and the row filter in the profile's key)."""
    rows = 1200
    data = table(rows, 1, 0.0).append_column(
        "ts",
        pa.array(np.datetime64("2024-01-01T00:00", "s") + np.arange(rows) * 3600).cast(
            pa.timestamp("s", "UTC")
        ),
    )
    pq.write_table(data, tmp_path / "reference.parquet", row_group_size=200)
    _, current = write_sides(tmp_path / "data", 600)

    def windowed(start: str, end: str) -> DriftReport:
        config = CheckJobConfig.from_wire(
            {
                "check": "profiles",
                "reference": {
                    "uri": str(tmp_path / "reference.parquet"),
                    "time": {"column": "ts"},
                    "window": {"from": start, "to": end},
                },
                "current": {"uri": str(current)},
                "columns": {"target": "target", "exclude": ["ts"]},
                "storage": {"reportsUri": str(tmp_path / "reports")},
            }
        )
        return run_check(config, str(tmp_path / "reports" / "profiles" / "report"))

    january = windowed("2024-01-01T00:00:00Z", "2024-01-21T00:00:00Z")
    later = windowed("2024-01-21T00:00:00Z", "2024-02-20T00:00:00Z")
    assert january.reference.files == later.reference.files == 1  # the same file...
    assert january.reference.rows == 480 and later.reference.rows == 720  # ...but other rows
    assert profile_folder(january) != profile_folder(later)
    for report in (january, later):
        assert report.reference_profile is not None and report.reference_profile.status == "built"
    again = windowed("2024-01-21T00:00:00Z", "2024-02-20T00:00:00Z")
    assert again.reference_profile is not None and again.reference_profile.status == "used"
    assert verdicts(again) == verdicts(later)


def test_a_failed_check_leaves_no_partial_profile(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 800)
    config = CheckJobConfig.from_wire(
        {
            "check": "profiles",
            "reference": {"uri": str(reference)},
            "current": {"uri": str(current)},
            "drift": {"perColumn": {"s_cat": {"method": "ks"}}},  # refused when s_cat's turn comes
            "storage": {"reportsUri": str(tmp_path / "reports")},
        }
    )
    with pytest.raises(ConfigError, match="'ks' does not accept categorical"):
        run_check(config, str(tmp_path / "reports" / "profiles" / "report"), workers=1)
    profiles = tmp_path / "reports" / "profiles" / "profiles"
    assert profiles.is_dir()  # columns before s_cat were written...
    assert [p for p in profiles.rglob("*") if p.is_file()] == []  # ...and removed with the failure


def test_a_check_that_stores_a_profile_keeps_the_newest_few_and_removes_older_ones(tmp_path: Path) -> None:
    """Every new reference version writes a profile about as big as its numbers: the check that
    stores one removes all but the PROFILES_KEPT newest, and says which it removed."""
    _, current = write_sides(tmp_path / "data", 300)
    reports = []
    for seed in range(PROFILES_KEPT + 2):
        reference, _ = write_sides(tmp_path / f"reference-{seed}", 300, reference_seed=10 + seed)
        reports.append(check(tmp_path, reference, current))
    folders = [profile_folder(r) for r in reports]
    assert len(set(folders)) == PROFILES_KEPT + 2
    assert sorted(p.name for p in folders[0].parent.iterdir()) == sorted(f.name for f in folders[2:])
    assert reports[-1].reference_profile is not None
    assert reports[-1].reference_profile.removed == [folders[1].name]
    assert reports[-2].reference_profile is not None
    assert reports[-2].reference_profile.removed == [folders[0].name]
    # A check on a reference whose profile is kept uses it; on one whose profile was removed,
    # builds it again.
    kept = check(tmp_path, tmp_path / "reference-2" / "reference", current)
    gone = check(tmp_path, tmp_path / "reference-0" / "reference", current)
    assert kept.reference_profile is not None and kept.reference_profile.status == "used"
    assert gone.reference_profile is not None and gone.reference_profile.status == "built"


def test_past_the_exact_limit_numbers_are_stored_as_sketches_and_scored_with_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kubedrift_jobs.drift.profile.EXACT_LIMIT_ROWS", 1_000)
    reference, current = write_sides(tmp_path / "data", 3000)
    built = check(tmp_path, reference, current)
    used = check(tmp_path, reference, current)
    assert used.reference_profile is not None and used.reference_profile.status == "used"
    assert verdicts(used) == verdicts(built)  # the stored sketch is the one the first check read
    columns = {c.name: c for c in [*used.columns, used.target] if c}
    # Numbers past 1,000 rows are sketches, however few their distinct values (an exact test
    # would expand their counts to a value per row): floats with ±inf and nulls, ties, wide
    # integers, decimals and the target.
    for name in ("f_normal", "f_ties", "i_wide", "d_amount", "target"):
        result = columns[name]
        assert result.status == "tested" and result.method == "wasserstein", name
        assert result.score is not None and result.score_error is not None, name
        assert result.uncertain == (abs(result.score - 0.1) <= result.score_error), name
    # Jensen-Shannon over a few values (a constant float) cannot be read from a sketch: a single
    # pod reads that column of the reference, as before profiles, and gets the exact result.
    # Categories (text, booleans, integers of a few values) stay counted exactly.
    for name in ("f_const", "i_small", "s_cat", "b_flag"):
        assert columns[name].score_error is None and not columns[name].uncertain, name
    assert used.dataset.columns_uncertain == sum(c.uncertain for c in used.columns)


def test_a_test_that_needs_the_values_of_a_sketched_reference_reads_them_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anderson-Darling needs every reference value; a single pod reads the column instead of
    reporting it unsupported, and gets the exact result of a check with no profile limit."""
    reference, current = write_sides(tmp_path / "data", 3000)
    drift = {"numerical": {"method": "anderson"}}
    exact = check(tmp_path / "exact", reference, current, drift)
    monkeypatch.setattr("kubedrift_jobs.drift.profile.EXACT_LIMIT_ROWS", 1_000)
    built = check(tmp_path / "sketched", reference, current, drift)
    used = check(tmp_path / "sketched", reference, current, drift)
    assert verdicts(built) == verdicts(used) == verdicts(exact)
    assert used.reference_profile is not None and used.reference_profile.status == "used"
    # Every number past the limit is a sketch, but integers few enough to be categories (i_small);
    # a single pod reads the values a test needs.
    assert used.reference_profile.reason == (
        "the tests of d_amount, f_const, f_normal, f_ties, i_wide, target need the reference's "
        "values, which the profile's sketch does not keep: read from the reference"
    )
    assert used.reference_profile.columns_read == 6
    assert not [c.name for c in used.columns if "sketch" in (c.reason or "")]
