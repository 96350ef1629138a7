"""The drift check itself: open both datasets, test every column pair, decide.

Columns are read one pair at a time per worker, so peak memory is about
`workers` column pairs plus the (small) results, never the whole table. Two
workers keep two cores busy: Parquet decoding and numpy's sorts release the GIL.

The reference side of each column comes from the reference profile stored for the
reference's data version (`profile_store.py`); only what it cannot vouch for is read
from the reference data (whole, or one row group at a time into a sketch past the exact
limit: `streamed.py`), and then written into the profile for the next check.

The current side of each column is read from the current data, or, in a sharded check's merge
step, merged from the partial profiles its indexes wrote (`partials.py`); the rest is the same.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pyarrow as pa

from kubedrift.datasets import open_source, relative_files
from kubedrift.errors import DataNotFound
from kubedrift.models.driftcheck import DataSource
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift.storage import ParquetData, retrying
from kubedrift_jobs.drift.column_check import ColumnPlan, CurrentProfile, check_column
from kubedrift_jobs.drift.partials import Partials
from kubedrift_jobs.drift.plan import plan_columns
from kubedrift_jobs.drift.profile import ReferenceVersion
from kubedrift_jobs.drift.profile_store import ProfileStore, profile_folder
from kubedrift_jobs.drift.streamed import column_profile
from kubedrift_jobs.drift.verdict import apply_correction, dataset_verdict, report_order

DEFAULT_WORKERS = 2


def run_check(
    config: CheckJobConfig,
    report_uri: str,
    workers: int | None = None,
    on_column: Callable[[int, int], None] | None = None,
    scheduled_at: datetime | None = None,
    partials: tuple[str, str] | None = None,
) -> DriftReport:
    """Check every column; `on_column(done, total)` is called as each one finishes (for progress bars).

    Windows are resolved with `scheduled_at` (now when absent); only their data is read, and a
    window without data raises EmptyWindow (current first: it is the one that has not landed yet).
    `partials` (folder, Job): the merge step of a sharded check, whose current columns come from
    the partial profiles of that Job's indexes instead of the data."""
    started_at = datetime.now(UTC)
    at = scheduled_at or started_at
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    reference, current = opened_sides(config, at)
    plans, missing = plan_columns(config.columns, reference.schema, current.schema)
    # The reference's version (its footers) names its profile; the profile's columns are read
    # instead of the reference's own, one at a time as they are checked.
    reference_print = retrying(reference.fingerprint)
    version = ReferenceVersion.of(reference_print, reference.row_filter)
    profiles = retrying(
        lambda: ProfileStore.open(
            profile_folder(config.storage.reports_uri, config.check, version), version, config.storage
        )
    )
    merged = None
    if partials is not None:
        folder, job = partials
        merged = retrying(lambda: Partials.open(folder, job, config.shards, current, config.storage))
    timings["open"] = time.perf_counter() - clock

    clock = time.perf_counter()

    done = itertools.count(1)

    def one(plan: ColumnPlan) -> ColumnResult:
        # A body that broke off mid-read is read again; the column pair is whole or the check fails.
        reference_side = profiles.reference(
            plan.name, reference.rows_with(plan.name), lambda: column_profile(reference, plan.name)
        )
        current_side: pa.ChunkedArray | CurrentProfile
        if merged is None:
            current_side = retrying(lambda: current.column(plan.name))
        else:
            rows = current.rows_with(plan.name)
            profile = retrying(lambda: merged.profile(plan.name, rows))
            current_side = CurrentProfile(profile, current.schema.field(plan.name).type)
        result = check_column(plan, reference_side, current_side, config.drift)
        if reference_side.form == "sketch" and merged is None and _unanswered(result):
            # The chosen test needs the reference's values, which a sketch does not keep. A single
            # pod reads them, as before profiles; a merge pod does not (sketches bound its memory).
            exact = profiles.values(plan.name, lambda: retrying(lambda: reference.column(plan.name)))
            result = check_column(plan, exact, current_side, config.drift)
        result = partly_present(result, reference, current)
        if on_column is not None:
            on_column(next(done), len(plans))
        return result

    count = workers or min(DEFAULT_WORKERS, os.cpu_count() or 1)
    try:
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="drift") as pool:
            # The current fingerprint reads every file's footer; it runs beside the columns, not before
            # them, and a footer read that broke off is read again like a column.
            fingerprinting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fingerprint")
            with fingerprinting:
                # The merge step read it already, to match the partials with the data.
                fingerprint = current.fingerprint if merged is None else (lambda: merged.fingerprint)
                current_print = fingerprinting.submit(retrying, fingerprint)
                try:
                    results = list(pool.map(one, plans))
                    fingerprints = (reference_print, current_print.result())
                except BaseException:  # Ctrl-C or a failed column: don't test the columns still queued
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    except BaseException:
        profiles.discard()  # after the pool's shutdown: no column is being written any more
        raise
    profile_use = profiles.commit()
    timings["columns"] = time.perf_counter() - clock

    results = apply_correction(results + missing, config.drift)
    by_role = {r.role: r for r in results if r.role != "feature"}
    features = [r for r in results if r.role == "feature"]
    return DriftReport(
        check=config.check,
        namespace=config.namespace,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        reference=fingerprints[0],
        current=fingerprints[1],
        settings=config.drift,
        dataset=dataset_verdict(features, config.drift),
        target=by_role.get("target"),
        prediction=by_role.get("prediction"),
        columns=report_order(features),
        timings=timings,
        reference_profile=profile_use,
        report_uri=report_uri,
        scheduled_at=scheduled_at,
        files_read={"reference": relative_files(reference), "current": relative_files(current)},
    )


def _unanswered(result: ColumnResult) -> bool:
    """A test a sketch cannot answer: one that needs values, or no score read from it (a p-value
    finer than the sketch resolves, counts of each of a few values)."""
    return result.status == "unsupported" or (result.uncertain and result.score is None)


def partly_present(result: ColumnResult, reference: ParquetData, current: ParquetData) -> ColumnResult:
    """A column only some files have is tested on the rows that have it; the report says how many.

    The rows of the other files are neither nulls (they would fake a null-share
    change) nor a reason to call the column missing (half the rows may have it).
    """
    absent: dict[str, int] = {}
    notes = list(result.notes)
    for side, data in (("reference", reference), ("current", current)):
        having = data.rows_with(result.name)
        absent[side] = data.num_rows - having
        if absent[side]:
            notes.append(
                f"in {data.files_with(result.name)} of {len(data.files)} {side} files: "
                f"{having} of {data.num_rows} rows have it, tested on those"
            )
    if not any(absent.values()):
        return result
    return result.model_copy(
        update={
            "rows_absent_reference": absent["reference"],
            "rows_absent_current": absent["current"],
            "notes": notes,
        }
    )


def opened_sides(config: CheckJobConfig, at: datetime) -> tuple[ParquetData, ParquetData]:
    """(reference, current), footers read; current first: its window is the one that may be empty."""
    current = retrying(lambda: _opened(config.current, config, at))
    reference = retrying(lambda: _opened(config.reference, config, at))
    for side, data in (("reference", reference), ("current", current)):
        if data.num_rows == 0:
            raise DataNotFound(f"{data.uri}: the {side} data has no rows; nothing to compare")
    return reference, current


def _opened(source: DataSource, config: CheckJobConfig, at: datetime) -> ParquetData:
    data = open_source(source, at, config.zone, config.storage)
    _ = data.schema  # reads the footers now, so a corrupt file fails here, inside the retry
    return data
