"""The comparison table: columns, sorting, only-changed, best marking, baseline row."""

from __future__ import annotations

import pytest

from kubedrift.plugin.table import UnknownColumn, build_table
from tests.unit.plugin.factories import driftcheck, experiment

PRODUCTION = {
    "experiment": "bikes-r0-1",
    "objective": 0.70,
    "uri": "s3://reports/bikes/production/",
    "promotedAt": "2025-01-01T00:00:00Z",
}


def grid() -> list:
    return [
        experiment(
            "bikes-r1-0", {"max_depth": 4, "n_estimators": 50, "seed": 0}, {"avg_prec": 0.71, "f1": 0.5}
        ),
        experiment(
            "bikes-r1-1", {"max_depth": 8, "n_estimators": 50, "seed": 0}, {"avg_prec": 0.78, "f1": 0.4}
        ),
        experiment(
            "bikes-r1-2", {"max_depth": 4, "n_estimators": 200, "seed": 0}, {"avg_prec": 0.74, "f1": 0.6}
        ),
    ]


def names(table) -> list[str]:
    return [row.experiment for row in table.rows]


def test_rows_sort_by_the_objective_best_first_when_maximized() -> None:
    table = build_table("bikes", grid(), driftcheck(goal="maximize"))

    assert names(table) == ["bikes-r1-1", "bikes-r1-2", "bikes-r1-0"]
    assert [row.best for row in table.rows] == [True, False, False]


def test_minimized_objective_sorts_lowest_first_and_marks_the_lowest_best() -> None:
    experiments = [
        experiment("e-a", {"alpha": 1.0}, {"rmse": 3.0}, objective_metric="rmse"),
        experiment("e-b", {"alpha": 0.1}, {"rmse": 1.5}, objective_metric="rmse"),
        experiment("e-c", {"alpha": 10.0}, {"rmse": 9.0}, objective_metric="rmse"),
    ]
    table = build_table("bikes", experiments, driftcheck(metric="rmse", goal="minimize"))

    assert names(table) == ["e-b", "e-a", "e-c"]
    assert [row.experiment for row in table.rows if row.best] == ["e-b"]


def test_goal_comes_from_the_driftcheck_not_the_metric_name() -> None:
    experiments = [
        experiment("e-a", {}, {"avg_prec": 0.9}),
        experiment("e-b", {}, {"avg_prec": 0.1}),
    ]
    table = build_table("bikes", experiments, driftcheck(goal="minimize"))

    assert [row.experiment for row in table.rows if row.best] == ["e-b"]


def test_without_a_driftcheck_lower_is_better_for_error_metrics() -> None:
    experiments = [
        experiment("e-a", {}, {"log_loss": 0.9}, objective_metric="log_loss"),
        experiment("e-b", {}, {"log_loss": 0.2}, objective_metric="log_loss"),
    ]
    table = build_table("bikes", experiments, check=None)

    assert table.objective is not None and table.objective.goal == "minimize"
    assert names(table) == ["e-b", "e-a"]


def test_sort_by_another_metric_uses_that_metrics_direction_and_keeps_best_by_objective() -> None:
    table = build_table("bikes", grid(), driftcheck(), sort_by="f1")

    assert names(table) == ["bikes-r1-2", "bikes-r1-0", "bikes-r1-1"]
    assert [row.experiment for row in table.rows if row.best] == ["bikes-r1-1"]


def test_sort_order_overrides_the_goal() -> None:
    table = build_table("bikes", grid(), driftcheck(), sort_by="avg_prec", sort_order="asc")

    assert names(table) == ["bikes-r1-0", "bikes-r1-2", "bikes-r1-1"]


def test_sort_by_a_param_ascending_then_by_name() -> None:
    table = build_table("bikes", grid(), driftcheck(), sort_by="max_depth")
    assert names(table) == ["bikes-r1-0", "bikes-r1-2", "bikes-r1-1"]

    table = build_table("bikes", grid(), driftcheck(), sort_by="n_estimators", sort_order="desc")
    assert names(table)[0] == "bikes-r1-2"


def test_params_of_mixed_types_sort_without_error() -> None:
    experiments = [
        experiment("e-none", {"max_depth": None}, {"avg_prec": 0.1}),
        experiment("e-text", {"max_depth": "auto"}, {"avg_prec": 0.2}),
        experiment("e-int", {"max_depth": 3}, {"avg_prec": 0.3}),
    ]
    table = build_table("bikes", experiments, driftcheck(), sort_by="max_depth")

    assert names(table) == ["e-int", "e-text", "e-none"]


def test_sorting_by_an_unknown_name_says_what_is_known() -> None:
    with pytest.raises(UnknownColumn, match=r"'accuracy'.*avg_prec.*max_depth"):
        build_table("bikes", grid(), driftcheck(), sort_by="accuracy")


def test_rows_without_the_sort_value_go_last_and_are_never_best() -> None:
    experiments = [
        *grid(),
        experiment("bikes-r1-3", {"max_depth": 2, "n_estimators": 10, "seed": 0}, phase="Running"),
        experiment(
            "bikes-r1-4", {"max_depth": 2, "n_estimators": 20, "seed": 0}, {"avg_prec": 0.99}, phase="Failed"
        ),
    ]
    table = build_table("bikes", experiments, driftcheck())

    assert names(table)[-1] == "bikes-r1-3"
    assert [row.experiment for row in table.rows if row.best] == ["bikes-r1-1"]


def test_columns_hold_every_metric_with_the_objective_first_and_varying_params_first() -> None:
    experiments = [
        experiment("e-a", {"seed": 0, "max_depth": 4}, {"f1": 0.5, "avg_prec": 0.7}),
        experiment("e-b", {"seed": 0, "max_depth": 8}, {"roc_auc": 0.8, "avg_prec": 0.6}),
    ]
    table = build_table("bikes", experiments, driftcheck())

    assert table.metric_columns == ("avg_prec", "f1", "roc_auc")
    assert table.param_columns == ("max_depth", "seed")


def test_only_changed_keeps_params_that_vary_between_trials() -> None:
    table = build_table("bikes", grid(), driftcheck(), only_changed=True)

    assert table.param_columns == ("max_depth", "n_estimators")


def test_a_param_missing_from_some_trials_counts_as_changed() -> None:
    experiments = [
        experiment("e-a", {"seed": 0, "class_weight": "balanced"}, {"avg_prec": 0.7}),
        experiment("e-b", {"seed": 0}, {"avg_prec": 0.6}),
    ]
    table = build_table("bikes", experiments, driftcheck(), only_changed=True)

    assert table.param_columns == ("class_weight",)


def test_undefined_metrics_get_a_column_and_keep_their_reason() -> None:
    experiments = [
        experiment("e-a", {}, {"avg_prec": 0.7}, undefined={"roc_auc": "only one class in the test data"}),
        experiment("e-b", {}, {"avg_prec": 0.6, "roc_auc": 0.5}),
    ]
    table = build_table("bikes", experiments, driftcheck())

    assert "roc_auc" in table.metric_columns
    row = table.rows[0]
    assert row.experiment == "e-a" and "roc_auc" not in row.metrics
    assert row.undefined_metrics == {"roc_auc": "only one class in the test data"}


def test_baseline_row_from_status_when_its_experiment_is_gone() -> None:
    table = build_table("bikes", grid(), driftcheck(production=PRODUCTION))

    baseline = table.rows[0]
    assert baseline.baseline and baseline.experiment == "bikes-r0-1"
    assert baseline.metrics == {"avg_prec": 0.70}
    assert not baseline.best
    assert names(table)[1:] == ["bikes-r1-1", "bikes-r1-2", "bikes-r1-0"]


def test_baseline_row_uses_the_production_experiment_when_it_still_exists() -> None:
    production = {**PRODUCTION, "experiment": "bikes-r1-0"}
    table = build_table("bikes", grid(), driftcheck(production=production), sort_by="avg_prec")

    baseline = table.rows[0]
    assert baseline.baseline and baseline.metrics == {"avg_prec": 0.71, "f1": 0.5}
    assert baseline.params["max_depth"] == 4
    # the trial itself still sorts among the others
    assert names(table)[1:] == ["bikes-r1-1", "bikes-r1-2", "bikes-r1-0"]


def test_baseline_stays_on_top_whatever_the_order() -> None:
    table = build_table(
        "bikes", grid(), driftcheck(production=PRODUCTION), sort_by="avg_prec", sort_order="asc"
    )

    assert table.rows[0].baseline


def test_baseline_params_do_not_make_trials_look_changed() -> None:
    earlier_run = experiment("bikes-r0-1", {"max_depth": 4, "n_estimators": 50, "seed": 7}, {"avg_prec": 0.7})
    check = driftcheck(production=PRODUCTION)

    table = build_table("bikes", grid(), check, only_changed=True, production=earlier_run)

    assert table.rows[0].baseline and table.rows[0].params["seed"] == 7
    assert table.param_columns == ("max_depth", "n_estimators")
    assert "seed" in build_table("bikes", grid(), check, production=earlier_run).param_columns


def test_no_experiments_yet_is_an_empty_table_with_the_baseline() -> None:
    table = build_table("bikes", [], driftcheck(production=PRODUCTION))

    assert [row.baseline for row in table.rows] == [True]
    assert table.metric_columns == ("avg_prec",)
