"""`kubedrift train`: the container command of the Indexed Job (its local `--all` form is
`kubedrift.local.grid_runner`).

In a pod: the config comes from `--config` or $KUBEDRIFT_CONFIG (the operator's
ConfigMap), the index from `--index` or $JOB_COMPLETION_INDEX (set by the Job
controller). The job exits 0 when the trial ran, whatever its metrics; else with
the error's exit code (see `kubedrift.errors`: 2 bad config or param, 3 missing
data, 4 unreadable data or missing column, 5 fit failure — all permanent — and
75 for storage trouble worth a retry), and a one-line reason in the termination
message either way.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# Set by the Job controller in every pod of an Indexed Job.
ENV_COMPLETION_INDEX = "JOB_COMPLETION_INDEX"
# Characters of an undefined metric's reason once the summary is too big; `fit_message` still
# measures the document in bytes after escaping, the one bound that matters to the kubelet.
REASON_LIMIT = 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="the TrainJobConfig file (default: $KUBEDRIFT_CONFIG)")
    parser.add_argument("--index", type=int, help=f"the grid index (default: ${ENV_COMPLETION_INDEX})")
    parser.add_argument(
        "--baseline", action="store_true", help="evaluate baselineModelUri instead of training"
    )
    parser.add_argument(
        "--termination-message-path",
        help="where the summary goes (default: $KUBEDRIFT_TERMINATION_MESSAGE_PATH or /dev/termination-log)",
    )


def run_command(args: argparse.Namespace) -> int:
    return main_index(
        args.config, args.index, baseline=args.baseline, termination_path=args.termination_message_path
    )


def completion_index(explicit: int | None) -> int:
    from kubedrift.errors import ConfigError

    if explicit is not None:
        return explicit
    raw = os.environ.get(ENV_COMPLETION_INDEX)
    if raw is None:
        raise ConfigError(f"no grid index: pass --index or set {ENV_COMPLETION_INDEX}")
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_COMPLETION_INDEX}={raw!r} is not an integer") from None


def main_index(
    config_path: str | None, index: int | None, *, baseline: bool = False, termination_path: str | None = None
) -> int:
    from kubedrift.models.jobconfig import TrainJobConfig
    from kubedrift_jobs.runtime import load_config, run_job

    def body() -> str:
        from kubedrift_jobs.train.trial import run_baseline, run_index

        config = load_config(TrainJobConfig, config_path)
        result = run_baseline(config) if baseline else run_index(config, completion_index(index))
        summary = result.summary
        shown = ", ".join(f"{k}={v:.4g}" for k, v in summary.metrics.items())
        print(
            f"trial {summary.index} ({summary.trial_id}): {shown}; model at {summary.model_uri}",
            file=sys.stderr,
        )
        return summary_message(summary.to_wire())

    return run_job(body, termination_path)


def summary_message(document: dict[str, Any]) -> str:
    """The summary as a termination message, below 4 KiB, dropping detail in a fixed order."""
    from kubedrift_jobs.runtime import fit_message

    return fit_message(document, _shrink)


def _shrink(document: dict[str, Any]) -> dict[str, Any] | None:
    # First shorten the reasons of undefined metrics, then drop long param values, then all params:
    # the metrics and ids the operator needs always fit; full params are in params.json.
    reasons: dict[str, str] = document.get("undefinedMetrics", {})
    if any(len(reason) > REASON_LIMIT for reason in reasons.values()):
        from kubedrift.text import shorten

        short = {name: shorten(reason, REASON_LIMIT) for name, reason in reasons.items()}
        return {**document, "undefinedMetrics": short}
    params: dict[str, Any] = document.get("params", {})
    if any(len(repr(value)) > 40 for value in params.values()):
        return {**document, "params": {k: v for k, v in params.items() if len(repr(v)) <= 40}}
    if params:
        return {**document, "params": {}}
    return None
