"""The table rendered for terminals (at 100 columns), CSV, Markdown and JSON."""

from __future__ import annotations

import csv
import io
import json

from rich.cells import cell_len

from kubedrift.plugin import formats, terminal
from kubedrift.plugin.table import Table, build_table
from tests.unit.plugin.factories import driftcheck, experiment

FIXED = {"criterion": "gini", "class_weight": "balanced_subsample", "min_samples_leaf": 5, "random_state": 0}
CLASSIFICATION_METRICS = ("avg_prec", "roc_auc", "accuracy", "f1", "log_loss")
PRODUCTION = {
    "experiment": "bikes-20250101t000000-2",
    "objective": 0.7,
    "uri": "s3://r/bikes/production/",
    "promotedAt": "2025-01-01T00:00:00Z",
}


def wide_grid() -> Table:
    """Six trials, five metrics and six params: far wider than 100 columns with a column per param."""
    experiments = []
    for index, (depth, trees) in enumerate([(4, 50), (4, 200), (8, 50), (8, 200), (None, 50), (None, 200)]):
        metrics = {
            name: 0.5 + index / 100 + offset / 10 for offset, name in enumerate(CLASSIFICATION_METRICS)
        }
        if index == 0:
            del metrics["roc_auc"]
        experiments.append(
            experiment(
                f"bikes-20250301t120000-{index}",
                {"max_depth": depth, "n_estimators": trees, **FIXED},
                metrics,
                undefined={} if index else {"roc_auc": "one class"},
            )
        )
    return build_table("bikes", experiments, driftcheck(production=PRODUCTION))


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def test_wide_grid_fits_100_columns_with_whole_names_and_every_varying_param() -> None:
    text = terminal.render_text([wide_grid()], width=100)

    assert max(cell_len(line) for line in lines(text)) <= 100
    for index in range(6):
        assert f"bikes-20250301t120000-{index}" in text
    assert "bikes-20250101t000000-2" in text
    for name in CLASSIFICATION_METRICS:
        assert name in text
    assert "max_depth=null" in text.replace("\n", " ") or "max_depth=nu" in text
    assert "n_estimators=200" in text


def test_compact_layout_names_the_shared_params_once_under_the_table() -> None:
    text = terminal.render_text([wide_grid()], width=100)
    flat = " ".join(text.split())

    assert "every trial: class_weight=balanced_subsample criterion=gini min_samples_leaf=5" in flat
    assert flat.count("criterion=gini") == 1


def test_a_wide_console_gets_a_column_per_param() -> None:
    text = terminal.render_text([wide_grid()], width=250)
    header = next(line for line in lines(text) if "Experiment" in line)

    assert max(cell_len(line) for line in lines(text)) <= 250
    for param in ("max_depth", "n_estimators", "class_weight", "criterion"):
        assert param in header
    assert "every trial" not in text


def test_marks_best_and_production_rows_and_puts_the_shared_run_in_the_title() -> None:
    text = terminal.render_text([wide_grid()], width=100)
    best_line = next(line for line in lines(text) if terminal.BEST_MARK in line and "bikes-" in line)
    production_line = next(
        line for line in lines(text) if terminal.PRODUCTION_MARK in line and "bikes-" in line
    )

    assert "bikes-20250301t120000-5" in best_line
    assert "bikes-20250101t000000-2" in production_line
    assert "objective avg_prec (maximize)" in text and "run r1" in text


def test_undefined_and_missing_metrics_read_differently() -> None:
    text = terminal.render_text([wide_grid()], width=250)
    first_trial = next(line for line in lines(text) if "bikes-20250301t120000-0" in line)
    production = next(line for line in lines(text) if "bikes-20250101t000000-2" in line)

    assert "n/a" in first_trial
    assert " - " in production and "n/a" not in production


def test_several_runs_get_a_run_column() -> None:
    experiments = [
        experiment("e-1", {"a": 1}, {"avg_prec": 0.5}, run="r1"),
        experiment("e-2", {"a": 2}, {"avg_prec": 0.6}, run="r2"),
    ]
    text = terminal.render_text([build_table("bikes", experiments, driftcheck())], width=100)

    assert "Run" in text and "run r" not in text


def test_csv_has_one_column_per_metric_and_param_and_raw_values() -> None:
    rows = list(csv.DictReader(io.StringIO(formats.to_csv([wide_grid()]))))

    assert len(rows) == 7
    baseline, best = rows[0], rows[1]
    assert baseline["baseline"] == "true" and baseline["experiment"] == "bikes-20250101t000000-2"
    assert baseline["roc_auc"] == "" and baseline["avg_prec"] == "0.7"
    assert best["best"] == "true" and best["max_depth"] == "null" and best["n_estimators"] == "200"
    assert float(best["avg_prec"]) == 0.55
    first_trial = next(row for row in rows if row["experiment"] == "bikes-20250301t120000-0")
    assert first_trial["roc_auc"] == ""


def test_csv_renames_a_param_that_shares_a_metric_name() -> None:
    table = build_table("bikes", [experiment("e-1", {"f1": "x"}, {"avg_prec": 0.5, "f1": 0.4})], driftcheck())
    rows = list(csv.DictReader(io.StringIO(formats.to_csv([table]))))

    assert rows[0]["f1"] == "0.4" and rows[0]["param.f1"] == "x"


def test_markdown_is_a_table_with_a_line_per_row_and_marks() -> None:
    text = formats.to_markdown([wide_grid()])
    table_lines = [line for line in lines(text) if line.startswith("|")]

    assert len(table_lines) == 2 + 7
    assert table_lines[1].startswith("| --- | --- | ---: |")
    assert "| bikes-20250101t000000-2 (production) |" in text
    assert "| **bikes-20250301t120000-5** ★ |" in text
    assert all(line.count("|") == table_lines[0].count("|") for line in table_lines)


def test_markdown_escapes_pipes_in_values() -> None:
    table = build_table("bikes", [experiment("e-1", {"sep": "a|b"}, {"avg_prec": 0.5})], driftcheck())

    assert "a\\|b" in formats.to_markdown([table])


def test_json_keeps_raw_values_and_null_for_missing_metrics() -> None:
    [document] = json.loads(formats.to_json([wide_grid()]))

    assert document["check"] == "bikes"
    assert document["objective"] == {"metric": "avg_prec", "goal": "maximize"}
    baseline, best = document["rows"][0], document["rows"][1]
    assert baseline["baseline"] is True and baseline["metrics"]["roc_auc"] is None
    assert (
        best["best"] is True and best["params"]["max_depth"] is None and best["params"]["n_estimators"] == 200
    )
    first = next(row for row in document["rows"] if row["experiment"].endswith("-0"))
    assert first["metrics"]["roc_auc"] is None and first["undefinedMetrics"] == {"roc_auc": "one class"}


def test_only_changed_reaches_every_format() -> None:
    experiments = [
        experiment("e-1", {"a": 1, "fixed": 0}, {"avg_prec": 0.5}),
        experiment("e-2", {"a": 2, "fixed": 0}, {"avg_prec": 0.6}),
    ]
    table = build_table("bikes", experiments, driftcheck(), only_changed=True)

    assert "fixed" not in formats.to_csv([table])
    assert "fixed" not in formats.to_markdown([table])
    assert "fixed" not in formats.to_json([table])
    assert "fixed" not in terminal.render_text([table], width=100)


def test_a_narrower_console_stacks_params_under_names_and_never_cuts_a_value() -> None:
    text = terminal.render_text([wide_grid()], width=80)

    assert max(cell_len(line) for line in lines(text)) <= 80
    for index in range(1, 6):
        assert f"{0.6 + index / 100:.5g}" in text  # every roc_auc value whole
    assert "n_estimators=200" in text and "max_depth=null" in text
