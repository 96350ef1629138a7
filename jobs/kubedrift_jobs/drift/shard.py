"""One index of a sharded check: profile its share of the current data, store the partial.

The index reads only its row groups (`partials.assign`), one column at a time on a small thread
pool as the whole check does, and each column one row group at a time, merged into a running
profile (`streamed.py`): its memory is a row group and a profile per column in flight (exact
while the whole window's column fits the exact limit, a sketch past it).
It tests nothing: the merge step (`kubedrift check --merge`, a pod the operator starts once every
index has succeeded) merges the partials and decides, exactly as one pod would have.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pyarrow as pa
from pydantic import Field

from kubedrift.errors import ConfigError
from kubedrift.models.base import Model
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.storage import RowGroup, retrying
from kubedrift_jobs.drift.column_check import ColumnPlan
from kubedrift_jobs.drift.engine import DEFAULT_WORKERS, opened_sides
from kubedrift_jobs.drift.partials import (
    PARTIAL_FORMAT,
    PartialManifest,
    assign,
    commit,
    index_folder,
    partials_folder,
    share_files,
    write_column,
)
from kubedrift_jobs.drift.plan import plan_columns
from kubedrift_jobs.drift.profile import ProfileFile
from kubedrift_jobs.drift.streamed import streamed_profile


class ShareProfiled(Model):
    """An index's termination message: what it wrote (the operator waits for the Job, not this)."""

    index: int = Field(description="The index.")
    shards: int = Field(description="How many indexes the check has.")
    uri: str = Field(description="Its partial's folder.")
    row_groups: int = Field(description="Row groups it read.")
    rows: int = Field(description="Rows of them, as the footers count them.")


def profile_share(
    config: CheckJobConfig, index: int, job: str, at: datetime, workers: int | None = None
) -> ShareProfiled:
    """Write the partial of index `index` of Job `job`, for the windows of `at`."""
    if not 0 <= index < config.shards:
        raise ConfigError(f"index {index} is not one of the check's {config.shards} shards")
    reference, current = opened_sides(config, at)
    plans, _ = plan_columns(config.columns, reference.schema, current.schema)
    fingerprint = retrying(current.fingerprint)
    share = assign(current.row_groups, config.shards)[index]
    folder = index_folder(partials_folder(config.storage.reports_uri, config.check, job), index)

    def one(plan: ColumnPlan) -> tuple[str, ProfileFile]:
        def read(groups: Sequence[RowGroup]) -> pa.ChunkedArray:
            return current.column_of(plan.name, groups)

        # The whole window's rows decide whether the merged profile, and so this partial, is exact.
        profile = streamed_profile(plan.name, share, read, current.rows_with(plan.name))
        return plan.name, retrying(lambda: write_column(folder, profile, config.storage))

    count = workers or min(DEFAULT_WORKERS, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="shard") as pool:
        files = dict(pool.map(one, plans))
    manifest = PartialManifest(
        format=PARTIAL_FORMAT,
        job=job,
        index=index,
        shards=config.shards,
        current=fingerprint.content_hash,
        share=share_files(current, share),
        columns=files,
    )
    retrying(lambda: commit(folder, manifest, config.storage))
    return ShareProfiled(
        index=index,
        shards=config.shards,
        uri=folder,
        row_groups=len(share),
        rows=sum(group.rows for group in share),
    )
