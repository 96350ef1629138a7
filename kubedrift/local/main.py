"""The `kubedrift run` command line: arguments, output format, exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from kubedrift.errors import KubedriftError
from kubedrift.models.resources import DriftCheck


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="a DriftCheck manifest, as `kubectl apply` takes it")
    parser.add_argument("--workers", type=int, help="trials that run at once (default: the cores)")
    parser.add_argument(
        "--retrain", action="store_true", help="run the grid whatever the trigger says (like retrain-now)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--at",
        metavar="TIME",
        help="check the windows of this scheduled time (RFC 3339, or a date: its midnight in timeZone)",
    )
    when.add_argument(
        "--backfill",
        metavar="FROM..TO",
        help="check every scheduled time of the schedule in the range once, in order, and print the "
        "drift share over time; retrains only with --retrain",
    )


def _backfill(check: DriftCheck, args: argparse.Namespace, console: Console) -> int:
    from kubedrift.local.backfill import backfill_times, history_in, print_drift_over_time
    from kubedrift.local.run import run_local

    times = backfill_times(check, args.backfill)
    console.print(f"backfill {check.metadata.name}: {len(times)} scheduled times, {times[0]} to {times[-1]}")
    outcomes = [
        run_local(
            check,
            console,
            workers=args.workers,
            force_retrain=args.retrain,
            at=at,
            backfill=True,
            progress=False,
        )
        for at in times
    ]
    if args.json:
        entries = history_in(check, times[0], times[-1])
        document = {
            "checks": [o.to_wire() for o in outcomes],
            "history": [e.to_wire() for e in entries],
        }
        print(json.dumps(document, indent=1))
    else:
        print_drift_over_time(check, times[0], times[-1], console)
    return 0


def main(args: argparse.Namespace) -> int:
    from kubedrift.local.backfill import parse_time
    from kubedrift.local.manifest import load_driftcheck
    from kubedrift.local.run import run_local

    # With --json, stdout carries only the document; the tables and progress go to stderr.
    console = Console(stderr=args.json)
    try:
        check = load_driftcheck(args.manifest)
        if getattr(args, "backfill", None):
            return _backfill(check, args, console)
        at = parse_time(args.at, check.spec.time_zone) if getattr(args, "at", None) else None
        outcome = run_local(
            check, console, workers=args.workers, force_retrain=args.retrain, progress=not args.json, at=at
        )
    except KubedriftError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupted:
        from kubedrift.local.grid_runner import Interrupted, exit_interrupted, interrupted_line

        if isinstance(interrupted, Interrupted):
            exit_interrupted(interrupted_line(interrupted))
        exit_interrupted("interrupted: stopped outside the training grid; run the command again")
    if args.json:
        print(json.dumps(outcome.to_wire(), indent=1))
    return 0
