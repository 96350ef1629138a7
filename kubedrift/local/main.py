"""The `kubedrift run` command line: arguments, output format, exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from kubedrift.errors import KubedriftError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="a DriftCheck manifest, as `kubectl apply` takes it")
    parser.add_argument("--workers", type=int, help="trials that run at once (default: the cores)")
    parser.add_argument(
        "--retrain", action="store_true", help="run the grid whatever the trigger says (like retrain-now)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")


def main(args: argparse.Namespace) -> int:
    from kubedrift.local.manifest import load_driftcheck
    from kubedrift.local.run import run_local

    # With --json, stdout carries only the document; the tables and progress go to stderr.
    console = Console(stderr=args.json)
    try:
        check = load_driftcheck(args.manifest)
        outcome = run_local(
            check, console, workers=args.workers, force_retrain=args.retrain, progress=not args.json
        )
    except KubedriftError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupted:
        from kubedrift.local.grid_runner import INTERRUPTED_EXIT_CODE, Interrupted, interrupted_line

        if isinstance(interrupted, Interrupted):
            print(interrupted_line(interrupted), file=sys.stderr)
        else:
            print("interrupted: stopped outside the training grid; run the command again", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    if args.json:
        print(json.dumps(outcome.to_wire(), indent=1))
    return 0
