"""A whole grid on this machine: every index in a process pool, then the comparison table.

Each process runs exactly what a pod runs (`trial.run_index`), so the artifacts
are the same files a cluster run writes. Processes, not threads: fitting holds
the GIL for much of its time, and a trial that crashes a worker must not take
the others with it. Workers start with "forkserver" (or "spawn"): forking a
process that already runs pyarrow's and OpenBLAS's threads can deadlock.

Ctrl-C belongs to the main process alone: workers ignore SIGINT and live in
their own process groups (a terminal's Ctrl-C reaches the whole foreground
group, and a worker that caught it would report the trial failed and take the
next one). On SIGINT the main process cancels the queued trials, terminates the
running ones (their whole groups, so nothing they started survives) and raises
`Interrupted`, which says what had finished.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, NoReturn

from rich.console import Console

from kubedrift.errors import KubedriftError
from kubedrift.grid import grid_size, trial_params
from kubedrift.local.progress import progress_bar
from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.models.results import FailedTrial, TrialSummary
from kubedrift.table import terminal
from kubedrift.table.trials import trial_table
from kubedrift_jobs.train.estimators import constructor_params, validate_retrain
from kubedrift_jobs.train.trial import TrialResult, baseline_index, run_index

Outcome = TrialResult | FailedTrial


@dataclass
class LocalRun:
    config: TrainJobConfig
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    workers: int = 1
    seconds: float = 0.0

    @property
    def summaries(self) -> list[TrialSummary | FailedTrial]:
        return [o.summary if isinstance(o, TrialResult) else o for _, o in sorted(self.outcomes.items())]

    @property
    def failed(self) -> list[FailedTrial]:
        return [o for o in self.outcomes.values() if isinstance(o, FailedTrial)]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a grid: the trials that finished, were stopped and never started."""

    def __init__(self, run: LocalRun, stopped: list[int], cancelled: list[int]) -> None:
        super().__init__("interrupted")
        self.run = run
        self.stopped = stopped
        self.cancelled = cancelled
        self.folder: str | None = None  # set once the run's folder is marked interrupted


WORKER_STOP_SECONDS = 2.0  # SIGTERM, then this long before SIGKILL


def _worker_started() -> None:
    """Pool initializer: the worker leaves Ctrl-C to the main process (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setpgid(0, 0)


def run_one(config_wire: dict[str, Any], index: int) -> Outcome:
    """One index in a worker; errors become a FailedTrial, as a failed pod becomes a failed Experiment."""
    config = TrainJobConfig.model_validate(config_wire)
    try:
        return run_index(config, index)
    except KubedriftError as error:
        return failed_trial(config, index, error.reason, error.message, error.exit_code)
    except Exception as error:  # a bug must not hide the other trials' results
        return failed_trial(config, index, "Error", f"{type(error).__name__}: {error}")


def failed_trial(
    config: TrainJobConfig, index: int, reason: str, message: str, exit_code: int = 1
) -> FailedTrial:
    """A FailedTrial with the params the index was to fit with, so that its row says which one failed."""
    retrain = config.retrain
    if index == baseline_index(config):
        return FailedTrial(index, reason, message, exit_code, baseline=True)
    chosen = trial_params(retrain.model.params, retrain.grid, index)
    params = constructor_params(retrain.model.estimator, chosen, retrain.random_seed)
    return FailedTrial(index, reason, message, exit_code, params)


def default_workers(trials: int, requested: int | None = None) -> int:
    """Bounded by the cores this process may use and by the number of trials."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(requested or cores, trials))


def run_grid(
    config: TrainJobConfig, workers: int | None = None, console: Console | None = None, progress: bool = True
) -> LocalRun:
    """Run every index (and the baseline, when configured); never raises for a failed trial."""
    validate_retrain(config.retrain)  # a bad grid fails once, before any process starts
    indexes = list(range(grid_size(config.retrain.grid)))
    extra = baseline_index(config)
    if extra is not None:
        indexes.append(extra)
    run = LocalRun(config=config, workers=default_workers(len(indexes), workers))
    console = console or Console(stderr=True)
    started = time.perf_counter()
    wire = config.to_wire()
    bar = progress_bar("training", console, enabled=progress)
    with bar:
        task = bar.add_task("", total=len(indexes))

        def record(index: int, outcome: Outcome) -> None:
            run.outcomes[index] = outcome
            bar.update(task, advance=1, description=_describe(outcome))

        if run.workers == 1:
            for position, index in enumerate(indexes):
                try:
                    record(index, run_one(wire, index))
                except KeyboardInterrupt:
                    raise Interrupted(run, [index], indexes[position + 1 :]) from None
        else:
            _run_in_pool(run, wire, indexes, record)
    run.seconds = time.perf_counter() - started
    return run


def _run_in_pool(
    run: LocalRun, wire: dict[str, Any], indexes: list[int], record: Callable[[int, Outcome], None]
) -> None:
    pool = ProcessPoolExecutor(max_workers=run.workers, mp_context=_context(), initializer=_worker_started)
    futures: dict[Future[Outcome], int] = {}
    try:
        futures = {pool.submit(run_one, wire, i): i for i in indexes}
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # the worker died (e.g. killed for memory)
                outcome = failed_trial(run.config, index, "WorkerDied", f"{type(error).__name__}: {error}")
            record(index, outcome)
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        try:
            for future, index in futures.items():  # finished while the signal arrived: keep the result
                finished = future.done() and not future.cancelled() and future.exception() is None
                if finished and index not in run.outcomes:
                    record(index, future.result())
            pending = [i for f, i in futures.items() if i not in run.outcomes and not f.running()]
            workers = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_workers(workers)
            pool.shutdown(wait=True)
            _stop_helpers()
        finally:
            signal.signal(signal.SIGINT, previous)
        stopped = [i for i in indexes if i not in run.outcomes and i not in pending]
        raise Interrupted(run, stopped, pending) from None
    pool.shutdown(wait=True)


def _stop_workers(processes: list[Any]) -> None:
    """Terminate every worker's process group, SIGKILL what is left after WORKER_STOP_SECONDS."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            if process.pid is None or not process.is_alive():
                continue
            try:
                os.killpg(process.pid, sig)  # the worker leads its own group (_worker_started)
            except (ProcessLookupError, PermissionError):
                process.terminate() if sig == signal.SIGTERM else process.kill()
        deadline = time.monotonic() + WORKER_STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        if not any(process.is_alive() for process in processes):
            return


def _stop_helpers() -> None:
    """Stop multiprocessing's forkserver and resource tracker now, not once they notice our exit:
    after Ctrl-C nothing the run started outlives the command. (Private, so looked up with care:
    without them the helpers still exit on their own a moment later.)"""
    from multiprocessing import forkserver, resource_tracker

    for helper in (
        getattr(forkserver, "_forkserver", None),
        getattr(resource_tracker, "_resource_tracker", None),
    ):
        stop = getattr(helper, "_stop", None)
        if callable(stop):
            with contextlib.suppress(OSError):
                stop()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, FailedTrial):
        return f"index {outcome.index} failed: {outcome.reason}"
    summary = outcome.summary
    return f"index {summary.index}: objective {summary.objective}"


def print_table(run: LocalRun, console: Console, sort_by: str | None = None) -> None:
    """The comparison table, the same as `kubectl drift exp show` prints; `sort_by` a metric or param."""
    table = trial_table(run.config, run.summaries, sort_by=sort_by)
    console.print(terminal.renderable(table, console), highlight=False)
    done = sum(1 for o in run.outcomes.values() if isinstance(o, TrialResult))
    console.print(f"{done} of {len(run.outcomes)} ran in {run.seconds:.1f}s on {run.workers} worker(s)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `kubedrift train` that only the local form has."""
    parser.add_argument("--all", action="store_true", help="run the whole grid locally and print the table")
    parser.add_argument("--workers", type=int, help="local processes for --all (default: the CPU count)")
    parser.add_argument("--sort-by", help="the metric to sort the table by (default: the objective)")


def main_local(config_path: str | None, workers: int | None = None, sort_by: str | None = None) -> int:
    """`kubedrift train --all`: exit 0 when every trial ran, else the first failure's exit code."""
    from kubedrift_jobs.runtime import load_config

    console = Console()
    try:
        config = load_config(TrainJobConfig, config_path)
        run = run_grid(config, workers=workers, console=Console(stderr=True))
        print_table(run, console, sort_by)
    except KubedriftError as error:
        print(f"error: {error.reason}: {error.message}", file=sys.stderr)
        return error.exit_code
    except Interrupted as interrupted:
        exit_interrupted(interrupted_line(interrupted))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures = sorted(run.failed, key=lambda f: f.index)
    return failures[0].exit_code if failures else 0


def exit_interrupted(line: str) -> NoReturn:
    """Print the one line, then die of SIGINT, as a Ctrl-C'd Unix command should: a shell reports
    $? = 130 and a calling shell loop stops too (https://www.cons.org/cracauer/sigint.html). CPython
    does the same for an unhandled Ctrl-C. Returning 130 was not enough: under `python -m` CPython
    turned it into death by SIGINT now and then (its process-wide "unhandled Ctrl-C" flag stays set
    when the signal lands inside a library's nested PyRun call), so the exit was not one thing."""
    print(line, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(128 + signal.SIGINT)  # not reached: SIGINT's default action ends the process


def interrupted_line(interrupted: Interrupted) -> str:
    """The one line Ctrl-C prints."""
    run = interrupted.run
    done = len(run.outcomes)
    total = done + len(interrupted.stopped) + len(interrupted.cancelled)
    where = f"; {interrupted.folder} is marked interrupted" if interrupted.folder else ""
    return (
        f"interrupted: run {run.config.run} stopped with {done} of {total} trials finished "
        f"({len(interrupted.stopped)} stopped, {len(interrupted.cancelled)} never started){where}"
    )
