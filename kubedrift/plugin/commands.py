"""`kubectl drift`: compare experiments, trigger checks, retraining and promotion, fetch reports.

    kubectl drift exp show [CHECK]     the comparison table of the Experiments
    kubectl drift run CHECK            run the drift check now
    kubectl drift run CHECK --at TIME  check the window of a past scheduled time
    kubectl drift backfill CHECK --from A --to B
                                       check every scheduled window in [A, B], a few at a time
    kubectl drift retrain CHECK        retrain now
    kubectl drift promote EXPERIMENT   promote this Experiment's model
    kubectl drift report CHECK         where the latest report is; -o FILE downloads it
    kubectl drift ui                   the web view, on 127.0.0.1
    kubectl drift history CHECK        every check, oldest window first, with the drift-share trend

kubectl passes every argument after `drift` to this program, so -n/--namespace,
--context and --kubeconfig work before or after the subcommand.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from kubedrift import __version__
from kubedrift.errors import KubedriftError, NotFound
from kubedrift.models.resources import DriftCheck, Experiment
from kubedrift.models.status import BackfillStatus, DriftCheckStatus
from kubedrift.plugin import history, pastwindows, report, triggers
from kubedrift.plugin.kube import Cluster, Connection
from kubedrift.table import formats, terminal
from kubedrift.table.experiments import build_table, group_by_check
from kubedrift.table.model import Table, UnknownColumn

TIMEOUT_EXIT_CODE = 1
POLL_SECONDS = 0.5


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "run"):
        build_parser().print_help()
        return 2
    try:
        return int(args.run(args))
    except KubedriftError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl drift",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kubectl-drift {__version__}")
    _add_connection_flags(parser)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    exp = commands.add_parser("exp", help="Experiments").add_subparsers(title="commands", metavar="COMMAND")
    show = exp.add_parser("show", help="the comparison table of a check's Experiments")
    show.add_argument("check", nargs="?", help="the DriftCheck (default: every check in the namespace)")
    show.add_argument("--run", dest="run_id", help="only this retrain run")
    show.add_argument("--sort-by", metavar="NAME", help="a metric or param (default: the objective)")
    show.add_argument("--sort-order", choices=("asc", "desc"), help="default: best first, params ascending")
    show.add_argument("--only-changed", action="store_true", help="only params that differ between trials")
    show.add_argument("--precision", type=int, default=5, help="significant digits (default: %(default)s)")
    output = show.add_mutually_exclusive_group()
    output.add_argument("--csv", dest="format", action="store_const", const="csv", help="CSV")
    output.add_argument("--md", dest="format", action="store_const", const="md", help="Markdown")
    output.add_argument("--json", dest="format", action="store_const", const="json", help="JSON")
    _add_connection_flags(show)
    show.set_defaults(run=show_experiments, format="table")

    run = commands.add_parser("run", help="run the drift check now, or for a past scheduled time")
    run.add_argument("check", help="the DriftCheck")
    run.add_argument(
        "--at",
        metavar="TIME",
        help="check the window of this past scheduled time (RFC 3339; a date or a time without an "
        "offset is read in the check's timeZone)",
    )
    _add_past_window_flags(run)
    _add_wait_flags(run)
    _add_connection_flags(run)
    run.set_defaults(run=run_check)

    retrain_command = commands.add_parser("retrain", help="retrain now, whatever the drift")
    retrain_command.add_argument("check", help="the DriftCheck")
    _add_wait_flags(retrain_command)
    _add_connection_flags(retrain_command)
    retrain_command.set_defaults(run=retrain)

    fill = commands.add_parser(
        "backfill", help="check every scheduled window of a past range, a few at a time"
    )
    fill.add_argument("check", help="the DriftCheck")
    fill.add_argument(
        "--from", dest="start", required=True, metavar="TIME", help="the range's start (included)"
    )
    fill.add_argument("--to", dest="end", required=True, metavar="TIME", help="the range's end (included)")
    _add_past_window_flags(fill)
    _add_wait_flags(fill, what="until every window has been checked", default=3600.0)
    _add_connection_flags(fill)
    fill.set_defaults(run=run_backfill)

    promote = commands.add_parser("promote", help="promote an Experiment's model to production")
    promote.add_argument("experiment", help="the Experiment")
    _add_wait_flags(promote)
    _add_connection_flags(promote)
    promote.set_defaults(run=promote_experiment)

    reports = commands.add_parser("report", help="the latest drift report of a check")
    reports.add_argument("check", help="the DriftCheck")
    reports.add_argument(
        "-o", "--output", type=Path, help="download it to this file (.html, or .json for the JSON report)"
    )
    _add_connection_flags(reports)
    reports.set_defaults(run=show_report)

    ui = commands.add_parser("ui", help="the read-only web view of the namespace's checks, on 127.0.0.1")
    ui.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ui.add_argument("--open", action="store_true", help="open the page in the default browser")
    _add_connection_flags(ui)
    ui.set_defaults(run=serve_ui)

    past = commands.add_parser("history", help="a check's past checks with the drift-share trend")
    past.add_argument("check", help="the DriftCheck")
    past.add_argument(
        "--all",
        action="store_true",
        help="the full history from object storage (your credentials), not only the status's last checks",
    )
    past.add_argument("--json", action="store_true", help="JSON, one object per check")
    _add_connection_flags(past)
    past.set_defaults(run=show_history)
    return parser


def _add_connection_flags(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS on every level, so that a flag given before the subcommand is not
    # reset by the subcommand's default.
    suppress = argparse.SUPPRESS
    parser.add_argument("-n", "--namespace", default=suppress, help="the namespace (default: the context's)")
    parser.add_argument("--context", default=suppress, help="the kubeconfig context to use")
    parser.add_argument("--kubeconfig", default=suppress, help="the kubeconfig file (default: $KUBECONFIG)")


def _add_wait_flags(
    parser: argparse.ArgumentParser, what: str = "until the operator acknowledges it", default: float = 300.0
) -> None:
    parser.add_argument("--wait", action="store_true", help=f"wait {what}")
    parser.add_argument(
        "--timeout",
        type=triggers.parse_duration,
        default=default,
        help=f"how long to wait (default: {default:g}s)",
    )


def _add_past_window_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="with --at or backfill: let drift start a retrain (default: never)",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="ask again for what an identical earlier request did (windows already recorded are skipped)",
    )


def connect(args: argparse.Namespace) -> Cluster:
    return Cluster.connect(
        Connection(
            kubeconfig=getattr(args, "kubeconfig", None),
            context=getattr(args, "context", None),
            namespace=getattr(args, "namespace", None),
        )
    )


def show_experiments(args: argparse.Namespace) -> int:
    cluster = connect(args)
    experiments = cluster.list_experiments(check=args.check, run=args.run_id)
    groups = group_by_check(experiments)
    if args.check is not None:
        groups.setdefault(args.check, [])
    tables: list[Table] = []
    unsortable: list[str] = []
    for check_name, members in groups.items():
        check = cluster.find_driftcheck(check_name)
        if check is None and not members:
            raise NotFound(f'driftcheck/{check_name} not found in namespace "{cluster.namespace}"')
        production = _production_experiment(cluster, check, members)
        table_of = partial(
            build_table,
            check_name,
            members,
            check,
            sort_order=args.sort_order,
            only_changed=args.only_changed,
            production=production,
        )
        try:
            table = table_of(sort_by=args.sort_by)
        except UnknownColumn as error:
            # Across several checks a metric may exist in some tables only: those keep the default order.
            unsortable.append(str(error))
            table = table_of()
        tables.append(table)
    if unsortable and (args.check is not None or len(unsortable) == len(tables)):
        print(f"error: {unsortable[0]}", file=sys.stderr)
        return 2
    if not tables:
        print(f'No Experiments in namespace "{cluster.namespace}".', file=sys.stderr)
        return 0
    if args.format == "csv":
        sys.stdout.write(formats.to_csv(tables))
    elif args.format == "md":
        sys.stdout.write(formats.to_markdown(tables, args.precision))
    elif args.format == "json":
        sys.stdout.write(formats.to_json(tables))
    else:
        console = Console()
        for table in tables:
            console.print(terminal.renderable(table, console, args.precision))
    return 0


def _production_experiment(
    cluster: Cluster, check: DriftCheck | None, listed: Sequence[Experiment]
) -> Experiment | None:
    """The promoted Experiment when it is not listed (an earlier run, or filtered out by --run)."""
    production = check.status.production if check is not None else None
    if production is None or any(e.metadata.name == production.experiment for e in listed):
        return None
    try:
        return cluster.get_experiment(production.experiment)
    except NotFound:  # garbage-collected; the status still has its objective
        return None


def run_check(args: argparse.Namespace) -> int:
    cluster = connect(args)
    if args.at is None:
        if args.retrain or args.again:
            print("error: --retrain and --again go with --at", file=sys.stderr)
            return 2
        return _fire(cluster, triggers.check_now(args.check, triggers.fresh_value()), args)
    check = cluster.get_driftcheck(args.check)
    token = triggers.fresh_value() if args.again else None
    value = pastwindows.check_at_value(
        check, args.at, retrain=args.retrain, token=token, now=pastwindows.now()
    )
    trigger = triggers.check_at(args.check, value)
    if triggers.acknowledged(check.status, trigger):
        print(
            f"driftcheck/{args.check} already handled {trigger.annotation}={value}; "
            "pass --again to check that window again",
            file=sys.stderr,
        )
        return 0
    code = _fire(cluster, trigger, args)
    if code != 0 or not args.wait:
        return code
    found = pastwindows.wait_check_at(lambda: cluster.get_driftcheck(args.check).status, value, args.timeout)
    if found is None:
        print(f"error: timed out after {args.timeout:g}s waiting for the check of {value}", file=sys.stderr)
        return TIMEOUT_EXIT_CODE
    for line in pastwindows.check_at_outcome(cluster.get_driftcheck(args.check), found):
        print(line)
    return 0 if found.phase == "Succeeded" else 1


def run_backfill(args: argparse.Namespace) -> int:
    cluster = connect(args)
    check = cluster.get_driftcheck(args.check)
    token = triggers.fresh_value() if args.again else None
    value, total = pastwindows.backfill_value(
        check, args.start, args.end, retrain=args.retrain, token=token, now=pastwindows.now()
    )
    trigger = triggers.backfill(args.check, value)
    if triggers.acknowledged(check.status, trigger):
        print(
            f"driftcheck/{args.check} already handled {trigger.annotation}={value}; "
            "pass --again to run it again (windows already recorded are skipped)",
            file=sys.stderr,
        )
        return 0
    print(f"{total} scheduled times of {check.spec.schedule!r} in the range")
    code = _fire(cluster, trigger, args)
    if code != 0 or not args.wait:
        return code
    with Progress(
        TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}")
    ) as bar:
        task = bar.add_task("", total=total)

        def show(found: BackfillStatus) -> None:
            failed = f"{found.failed} failed, " if found.failed else ""
            bar.update(
                task,
                total=found.total,
                completed=found.done + found.failed,
                description=f"{failed}{len(found.in_flight)} in flight",
            )

        found = pastwindows.follow_backfill(
            lambda: cluster.get_driftcheck(args.check).status, value, args.timeout, show
        )
    if found is None:
        print(f"error: timed out after {args.timeout:g}s; the backfill goes on", file=sys.stderr)
        return TIMEOUT_EXIT_CODE
    for line in pastwindows.backfill_outcome(found):
        print(line)
    return 0 if found.phase == "Succeeded" else 1


def retrain(args: argparse.Namespace) -> int:
    cluster = connect(args)
    return _fire(cluster, triggers.retrain_now(args.check, triggers.fresh_value()), args)


def promote_experiment(args: argparse.Namespace) -> int:
    cluster = connect(args)
    experiment = cluster.get_experiment(args.experiment)
    trigger = triggers.promote(args.experiment, experiment.spec.check, triggers.fresh_value())
    return _fire(cluster, trigger, args)


def _fire(cluster: Cluster, trigger: triggers.Trigger, args: argparse.Namespace) -> int:
    cluster.annotate(trigger.kind, trigger.name, {trigger.annotation: trigger.value})
    print(f"{trigger.kind.singular}/{trigger.name} annotated {trigger.annotation}={trigger.value}")
    if not args.wait:
        return 0
    acknowledged = wait_for_acknowledgement(
        lambda: cluster.get_driftcheck(trigger.check).status, trigger, args.timeout
    )
    if not acknowledged:
        print(
            f"error: timed out after {args.timeout:g}s: driftcheck/{trigger.check} has not acknowledged "
            f"{trigger.annotation}={trigger.value}; is the kubedrift operator running?",
            file=sys.stderr,
        )
        return TIMEOUT_EXIT_CODE
    for line in triggers.outcome(trigger, cluster.get_driftcheck(trigger.check)):
        print(line)
    return 0


def wait_for_acknowledgement(
    read_status: Callable[[], DriftCheckStatus],
    trigger: triggers.Trigger,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Poll until the status records the trigger's value; False on timeout.

    Polling, not a watch: an acknowledgement is one status write, a few requests
    a second cost nothing, and a poll survives apiserver restarts without resync.
    """
    deadline = clock() + timeout
    while True:
        if triggers.acknowledged(read_status(), trigger):
            return True
        if clock() >= deadline:
            return False
        sleep(min(POLL_SECONDS, max(deadline - clock(), 0.0)))


def show_report(args: argparse.Namespace) -> int:
    cluster = connect(args)
    check = cluster.get_driftcheck(args.check)
    if args.output is None:
        print(report.latest_report_uri(check))
        return 0
    uri = report.download(check, args.output)
    print(f"{args.output} ← {uri}")
    return 0


def serve_ui(args: argparse.Namespace) -> int:
    """The web view over the cluster, with the user's own kubeconfig (so their RBAC applies)."""
    from kubedrift.ui.cluster import ClusterSource
    from kubedrift.ui.server import App, plotly_js, serve

    plotly_js()  # say now, not on the first page, that plotly is missing
    cluster = connect(args)
    host = cluster.api.api_client.configuration.host
    source = ClusterSource(cluster, f"{host} · namespace {cluster.namespace}")
    try:
        return serve(App(source), args.port, _announce_ui, args.open)
    except OSError as error:  # the port is taken
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2


def _announce_ui(url: str) -> None:
    print(f"kubectl drift ui: serving on {url} (Ctrl-C stops it)", flush=True)


def show_history(args: argparse.Namespace) -> int:
    cluster = connect(args)
    check = cluster.get_driftcheck(args.check)
    if args.all:
        rows, source = history.from_storage(check), "object storage"
    else:
        rows, source = history.from_status(check), "status"
    if args.json:
        sys.stdout.write(history.to_json(rows))
    else:
        history.render(Console(), args.check, rows, source)
    return 0
