"""A column's profile read one row group at a time: what bounds a pod's memory on data of any size.

A column whose rows fit the exact limit (`profile.EXACT_LIMIT_ROWS`) gets its exact profile, bit
for bit the one of all its rows. Past the limit the whole becomes a sketch anyway, so the running
profile turns into one as soon as it holds more than RUNNING_EXACT_LIMIT values: a pod then holds
one row group and a sketch (a few hundred KB) per column in flight, whatever the data's size.
Numbers with many repeats (the counts form) become a sketch by the same count of values, not of
distinct ones: every exact numerical test, and the exact merge, expands counts back to one value
per row. Integers of at most INTEGER_CARDINALITY_LIMIT distinct values stay counts: they are
categories, and every categorical test scores counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pyarrow as pa

from kubedrift.storage import ParquetData, RowGroup, retrying
from kubedrift_jobs.drift import profile
from kubedrift_jobs.drift.column_types import INTEGER_CARDINALITY_LIMIT
from kubedrift_jobs.drift.merge import merge
from kubedrift_jobs.drift.profile import ColumnProfile, build, limited

# A running profile past this many stored values is a sketch (when the whole will be one): about
# a row group's worth, so merging it with the next row group holds two row groups' values at most.
RUNNING_EXACT_LIMIT = 1_000_000


def running_limit(rows: int) -> int:
    """The exact limit of a profile built in parts of a column with `rows` rows in all."""
    if rows <= profile.EXACT_LIMIT_ROWS:
        return profile.EXACT_LIMIT_ROWS
    return min(RUNNING_EXACT_LIMIT, profile.EXACT_LIMIT_ROWS)


def streamed_profile(
    name: str,
    groups: Sequence[RowGroup],
    read: Callable[[Sequence[RowGroup]], pa.ChunkedArray],
    rows: int | None = None,
) -> ColumnProfile:
    """The column's profile over `groups`, read one row group at a time and merged as it goes.
    `rows` is the column's rows in all (the data's, when `groups` are one index's share): it
    decides whether the profile can stay exact. A row group that broke off mid-read is read again."""
    limit = running_limit(sum(group.rows for group in groups) if rows is None else rows)
    if not groups:
        return build(name, retrying(lambda: read([])))
    running: ColumnProfile | None = None
    for group in groups:
        part = build(name, retrying(partial(read, [group])), exact_limit=limit)
        running = _bounded(part if running is None else merge([running, part], exact_limit=limit), limit)
    assert running is not None
    return running


def _bounded(running: ColumnProfile, limit: int) -> ColumnProfile:
    """The running profile, as a sketch once its numbers count more than `limit` values in any
    form, unless they are integers few enough to be categories (inferred so, and kept counted)."""
    if running.form not in ("sorted", "counts") or running.summary is None or running.summary.count <= limit:
        return running
    categories = pa.types.is_integer(running.arrow_type) and len(running.values) <= INTEGER_CARDINALITY_LIMIT
    return running if running.form == "counts" and categories else limited(running, exact_limit=0)


def column_profile(data: ParquetData, name: str) -> ColumnProfile:
    """The column's profile over all of `data`: read whole when it fits the exact limit (one read),
    else one row group at a time into a sketch."""
    rows = data.rows_with(name)
    if rows <= profile.EXACT_LIMIT_ROWS:
        return build(name, retrying(lambda: data.column(name)))
    return streamed_profile(name, data.row_groups, lambda groups: data.column_of(name, groups), rows)
