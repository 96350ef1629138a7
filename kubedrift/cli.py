"""The `kubedrift` command. Each subcommand lives with the code it runs; this
module only parses arguments and dispatches.

Each image installs only its own package beside this one: the operator image has no
`kubedrift_jobs`, the jobs image no `kubedrift_operator`. A subcommand whose package is
absent still exists, and says which image or extra it needs instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from kubedrift import __version__

CHART_CRDS = Path("charts/kubedrift/files/crds")
REFERENCE_DOC = Path("docs/reference.md")


def _crds(args: argparse.Namespace) -> int:
    from kubedrift.models.crd import crd_manifests

    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    for name, text in crd_manifests().items():
        (out / name).write_text(text)
        print(out / name)
    return 0


def _docs(args: argparse.Namespace) -> int:
    from kubedrift.models.reference import reference_markdown

    out: Path = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(reference_markdown())
    print(out)
    return 0


@dataclass(frozen=True)
class Side:
    """The importable packages one side needs, and where a user finds them."""

    name: str
    packages: tuple[str, ...]

    def installed(self) -> bool:
        # find_spec looks without importing, so `kubedrift --help` stays fast.
        return all(importlib.util.find_spec(package) is not None for package in self.packages)

    def explain_absence(self, args: argparse.Namespace) -> int:
        missing = [p for p in self.packages if importlib.util.find_spec(p) is None]
        print(
            f"error: `kubedrift {args.command}` needs {', '.join(missing)}: use the {self.name} image "
            f"or pip install 'kubedrift[{self.name}]'",
            file=sys.stderr,
        )
        return 2


def _operator(args: argparse.Namespace) -> int:
    from kubedrift_operator.main import run

    return run(args)


def _run(args: argparse.Namespace) -> int:
    from kubedrift.local.main import main as run_main

    return run_main(args)


def _promote_copy(args: argparse.Namespace) -> int:
    from kubedrift_jobs.promote import promote_copy

    return promote_copy(args.source, args.destination, args.config)


def _train(args: argparse.Namespace) -> int:
    if args.all:
        from kubedrift.local.grid_runner import main_local

        return main_local(args.config, workers=args.workers, sort_by=args.sort_by)
    from kubedrift_jobs.train.job import run_command

    return run_command(args)


def _check(args: argparse.Namespace) -> int:
    from kubedrift_jobs.drift.job import main as check_main

    step = "shard" if args.shard else "merge" if args.merge else "whole"
    return check_main(args.config, args.termination_message_path, args.workers, step)


def _ui(args: argparse.Namespace) -> int:
    from kubedrift.errors import KubedriftError
    from kubedrift.ui.folder import FolderSource
    from kubedrift.ui.server import App, plotly_js, serve

    try:
        plotly_js()  # say now, not on the first page, that plotly is missing
        return serve(App(FolderSource(args.folder)), args.port, _announce, args.open)
    except KubedriftError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # the port is taken
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2


def _announce(url: str) -> None:
    print(f"kubedrift ui: serving on {url} (Ctrl-C stops it)", flush=True)


JOBS = Side("jobs", ("kubedrift_jobs", "pandas", "pyarrow", "sklearn"))
OPERATOR = Side("operator", ("kubedrift_operator", "kopf", "kubernetes"))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the `command` about to run, the other commands' own
    arguments are left out, so a check does not import the operator, the local run and training
    only to describe them (about 0.7 s of imports when all extras are installed)."""

    def described(name: str) -> bool:
        return command is None or command == name

    parser = argparse.ArgumentParser(prog="kubedrift", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kubedrift {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    crds = commands.add_parser("crds", help="write the CRD manifests generated from the models")
    crds.add_argument("-o", "--output", type=Path, default=CHART_CRDS, help="folder (default: %(default)s)")
    crds.set_defaults(run=_crds)

    docs = commands.add_parser("docs", help="write the resource reference generated from the models")
    docs.add_argument("-o", "--output", type=Path, default=REFERENCE_DOC, help="file (default: %(default)s)")
    docs.set_defaults(run=_docs)

    run = commands.add_parser(
        "run",
        help="run a DriftCheck manifest on this machine: check, retrain on drift, compare, promote",
        description="Exit codes: 0 the check ran (drift or not, retrain handled), 2 invalid manifest or "
        "config, 3 data not found, 4 data unreadable, 5 every trial failed, 75 storage unreachable.",
    )
    if JOBS.installed() and described("run"):
        from kubedrift.local.main import add_arguments as add_run_arguments

        add_run_arguments(run)
        run.set_defaults(run=_run)
    else:
        run.set_defaults(run=JOBS.explain_absence)

    operator = commands.add_parser("operator", help="run the kubedrift operator (needs the operator extra)")
    if OPERATOR.installed() and described("operator"):
        from kubedrift_operator.main import add_arguments as add_operator_arguments

        add_operator_arguments(operator)
        operator.set_defaults(run=_operator)
    else:
        operator.set_defaults(run=OPERATOR.explain_absence)

    promote = commands.add_parser(
        "promote-copy", help="copy a model artifact to production (a promotion Job)"
    )
    promote.add_argument("--from", dest="source", required=True, help="the model artifact (file or folder)")
    promote.add_argument("--to", dest="destination", required=True, help="the production folder")
    promote.add_argument("--config", default=None, help="check config (default: $KUBEDRIFT_CONFIG)")
    promote.set_defaults(run=_promote_copy if JOBS.installed() else JOBS.explain_absence)

    train = commands.add_parser(
        "train", help="train and evaluate one grid index (the Indexed Job's command), or --all locally"
    )
    if JOBS.installed() and described("train"):
        from kubedrift.local.grid_runner import add_arguments as add_local_arguments
        from kubedrift_jobs.train.job import add_arguments as add_train_arguments

        add_train_arguments(train)
        add_local_arguments(train)
        train.set_defaults(run=_train)
    else:
        train.set_defaults(run=JOBS.explain_absence)

    check = commands.add_parser(
        "check",
        help="run one drift check from its job config; exit 0 whether or not drift was found",
        description="Exit codes: 0 ran (drift or not), 2 invalid config, 3 data not found, "
        "4 data unreadable, 75 storage unreachable (worth a retry).",
    )
    check.add_argument("--config", help="the CheckJobConfig file (default: $KUBEDRIFT_CONFIG)")
    check.add_argument(
        "--termination-message-path",
        help="where the summary goes (default: $KUBEDRIFT_TERMINATION_MESSAGE_PATH or /dev/termination-log)",
    )
    check.add_argument("--workers", type=int, help="columns tested at once (default: 2)")
    steps = check.add_mutually_exclusive_group()
    steps.add_argument(
        "--shard",
        action="store_true",
        help="one index of a sharded check ($JOB_COMPLETION_INDEX): profile its share of the current data",
    )
    steps.add_argument(
        "--merge",
        action="store_true",
        help="the merge step of a sharded check: check the partials of Job $KUBEDRIFT_JOB_NAME",
    )
    check.set_defaults(run=_check if JOBS.installed() else JOBS.explain_absence)

    ui = commands.add_parser(
        "ui",
        help="the web view over the output folder of local `kubedrift run`s, on 127.0.0.1",
        description="Serves the pages of `kubectl drift ui` over DIR, the storage.reportsUri of local runs "
        "(no cluster): drift over time, per-column scores, every retrain run's table and plots.",
    )
    ui.add_argument("folder", type=Path, metavar="DIR", help="a local run's storage.reportsUri folder")
    ui.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ui.add_argument("--open", action="store_true", help="open the page in the default browser")
    ui.set_defaults(run=_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and not argv[0].startswith("-") else None).parse_args(argv)
    return int(args.run(args))
