"""Deterministic names of everything the operator creates.

A child's name is a pure function of its parent's name and what the child is for
(the run id, the index, the trigger value). That is what makes the operator safe to
kill at any moment: a second attempt to create the same child hits AlreadyExists
instead of making a duplicate.

Job names end up in the `job-name` label of their pods, so they must fit in 63
characters; long DriftCheck names are cut and a short hash keeps them unique.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

MAX_NAME = 63
# Room the Job controller needs for the pod suffix (`-<index>-<5 chars>`) within 63.
MAX_JOB_NAME = 52


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def _fit(base: str, suffix: str, limit: int) -> str:
    name = f"{base}-{suffix}" if suffix else base
    if len(name) <= limit:
        return name
    cut = limit - len(suffix) - 8  # '-' + 6-char hash + '-'
    return f"{base[:cut].rstrip('-.')}-{short_hash(base)}-{suffix}" if suffix else base[:limit]


def config_map(check: str) -> str:
    return _fit(check, "config", MAX_NAME)


def cron_job(check: str) -> str:
    # CronJob names are limited to 52 so that the Jobs it creates (+ 11 chars) fit 63.
    return _fit(check, "check", MAX_JOB_NAME)


def check_now_job(check: str, trigger_value: str) -> str:
    return _fit(check, f"now-{short_hash(trigger_value, length=8)}", MAX_JOB_NAME)


def check_at_job(check: str, trigger_value: str) -> str:
    return _fit(check, f"at-{short_hash(trigger_value, length=8)}", MAX_JOB_NAME)


def backfill_job(check: str, trigger_value: str, scheduled_at: datetime) -> str:
    """One per (backfill, scheduled time): a restart re-derives it, a new backfill value gets new ones."""
    stamp = scheduled_at.astimezone(UTC).strftime("%Y%m%d%H%M")
    return _fit(check, f"bf{short_hash(trigger_value, length=4)}-{stamp}", MAX_JOB_NAME)


def merge_job(sharded_job: str) -> str:
    """The merge step of a sharded check's Job: one per Job, so a restart finds it again."""
    return _fit(sharded_job, "merge", MAX_JOB_NAME)


def run_id(trigger: str) -> str:
    """A run's id: short, and the same for the same trigger (a check Job or an annotation value)."""
    return "r" + short_hash(trigger, length=6)


def run_job(check: str, run: str) -> str:
    return _fit(check, run, MAX_JOB_NAME)


def run_config_map(check: str, run: str) -> str:
    return _fit(check, f"{run}-config", MAX_NAME)


def experiment(check: str, run: str, index: int) -> str:
    return _fit(check, f"{run}-{index}", MAX_NAME)


def promotion_job(check: str, experiment_name: str, trigger_value: str) -> str:
    return _fit(check, f"promote-{short_hash(experiment_name, trigger_value, length=8)}", MAX_JOB_NAME)


def recheck_job(check: str, scheduled_at: str, attempt: int) -> str:
    """The `attempt`-th re-check of the (empty) window of `scheduled_at`."""
    return _fit(check, f"recheck-{short_hash(scheduled_at, str(attempt), length=8)}", MAX_JOB_NAME)
