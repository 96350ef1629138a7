"""Rows of the comparison table from a local run: `kubedrift run` and `kubedrift train --all`.

The same table as `kubectl drift exp show`, from what each index handed back
instead of from Experiment objects: a trial is named `exp-<trial id>` (there is
no Experiment to name it locally), the production model re-evaluated on this
run's test data is the baseline row `main` (like dvc's workspace row), and an
index that raised is a Failed row named by its index, with its reason and
message under the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.models.results import FailedTrial, TrialSummary
from kubedrift.table.model import ObjectiveRef, Row, SortOrder, Table, assemble

BASELINE = "main"


def experiment_name(trial_id: str) -> str:
    """A local trial's name: its content id, so the same trial has the same name on every run.

    In-cluster Experiments are named `<check>-<run>-<index>` instead (docs/concepts.md says why).
    """
    return f"exp-{trial_id}"


def trial_row(summary: TrialSummary, run: str) -> Row:
    return Row(
        experiment=experiment_name(summary.trial_id),
        run=run,
        phase="Succeeded",
        params=dict(summary.params),
        metrics=dict(summary.metrics),
        undefined_metrics=dict(summary.undefined_metrics),
        data_version=summary.data_version,
        index=summary.index,
    )


def baseline_row(summary: TrialSummary, param_names: Iterable[str]) -> Row:
    """The production model as `main`. Only the params the trials set: the model's
    full `get_params()` would bury them under every default of the estimator."""
    names = set(param_names)
    return Row(
        experiment=BASELINE,
        run="",
        phase="Promoted",
        params={name: value for name, value in summary.params.items() if name in names},
        metrics=dict(summary.metrics),
        undefined_metrics=dict(summary.undefined_metrics),
        data_version=summary.data_version,
        promoted=True,
        baseline=True,
    )


def failed_row(failure: FailedTrial, run: str) -> Row:
    return Row(
        experiment=BASELINE if failure.baseline else f"index {failure.index}",
        run="" if failure.baseline else run,
        phase="Failed",
        params=dict(failure.params),
        reason=failure.reason,
        message=failure.message,
        index=None if failure.baseline else failure.index,
        baseline=failure.baseline,
    )


def trial_table(
    config: TrainJobConfig,
    outcomes: Sequence[TrialSummary | FailedTrial],
    *,
    sort_by: str | None = None,
    sort_order: SortOrder | None = None,
    only_changed: bool = False,
) -> Table:
    """The comparison table of one local retrain run, trials sorted by `sort_by` (default the
    objective) best first, failures last; raises `UnknownColumn` for an unknown `sort_by`."""
    retrain = config.retrain
    trials = [trial_row(o, config.run) for o in outcomes if isinstance(o, TrialSummary) and not o.baseline]
    trials += [failed_row(o, config.run) for o in outcomes if isinstance(o, FailedTrial) and not o.baseline]
    param_names = {name for row in trials for name in row.params}
    baseline = next(
        (baseline_row(o, param_names) for o in outcomes if isinstance(o, TrialSummary) and o.baseline),
        next(
            (failed_row(o, config.run) for o in outcomes if isinstance(o, FailedTrial) and o.baseline), None
        ),
    )
    return assemble(
        config.check,
        trials,
        baseline,
        ObjectiveRef(retrain.objective.metric, retrain.objective.goal),
        sort_by=sort_by,
        sort_order=sort_order,
        only_changed=only_changed,
        declared_metrics=retrain.metrics,
        estimator=retrain.model.estimator,
        show_index=True,
    )
