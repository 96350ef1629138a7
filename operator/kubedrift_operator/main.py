"""`kubedrift operator`: run the controller."""

from __future__ import annotations

import argparse
import logging

import kopf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)"
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch all namespaces (the default)"
    )
    parser.add_argument(
        "--liveness", default="http://0.0.0.0:8080/healthz", help="probe endpoint URL ('' for none)"
    )
    parser.add_argument("--log-format", choices=["json", "plain"], default="json")
    parser.add_argument("--verbose", action="store_true")


def run(args: argparse.Namespace) -> int:
    from kubedrift_operator import handlers  # registers the kopf handlers

    kopf.configure(
        verbose=args.verbose,
        log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.PLAIN,
    )
    # kopf logs every event handler call at DEBUG only; INFO stays readable.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING if not args.verbose else logging.DEBUG)
    handlers.RT.namespaces = tuple(args.namespace)
    kopf.run(
        clusterwide=not args.namespace,
        namespaces=args.namespace,
        liveness_endpoint=args.liveness or None,
        standalone=True,
    )
    return 0
