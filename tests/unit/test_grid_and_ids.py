"""Grid expansion order and trial ids: the index ↔ combination contract with the operator."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubedrift.errors import ConfigError
from kubedrift.grid import GRID_CAP, combination, combinations, grid_size, trial_params
from kubedrift.trial_ids import data_version, trial_id

SEED_GRID = {"n_estimators": [350, 500], "min_samples_split": [28, 64], "max_depth": [None, 8]}

# Written out by hand from the documented rule: names sorted, values in list order, last name fastest.
GOLDEN = [
    {"max_depth": None, "min_samples_split": 28, "n_estimators": 350},
    {"max_depth": None, "min_samples_split": 28, "n_estimators": 500},
    {"max_depth": None, "min_samples_split": 64, "n_estimators": 350},
    {"max_depth": None, "min_samples_split": 64, "n_estimators": 500},
    {"max_depth": 8, "min_samples_split": 28, "n_estimators": 350},
    {"max_depth": 8, "min_samples_split": 28, "n_estimators": 500},
    {"max_depth": 8, "min_samples_split": 64, "n_estimators": 350},
    {"max_depth": 8, "min_samples_split": 64, "n_estimators": 500},
]


def test_golden_mapping_of_index_to_combination() -> None:
    assert grid_size(SEED_GRID) == 8
    assert [combination(SEED_GRID, i) for i in range(8)] == GOLDEN
    assert list(combinations(SEED_GRID)) == GOLDEN


def test_mapping_does_not_depend_on_the_order_keys_were_written() -> None:
    reordered = dict(reversed(list(SEED_GRID.items())))
    assert list(combinations(reordered)) == GOLDEN


def test_every_combination_appears_exactly_once() -> None:
    grid = {"a": [1, 2, 3], "b": ["x", "y"], "c": [True, False, None, 0.5]}
    seen = [tuple(sorted(c.items())) for c in combinations(grid)]
    assert len(seen) == len(set(seen)) == 24


def test_empty_grid_is_one_trial_of_the_fixed_params() -> None:
    assert grid_size({}) == 1
    assert trial_params({"n_estimators": 10}, {}, 0) == {"n_estimators": 10}


def test_grid_values_win_over_nothing_and_fixed_params_are_kept() -> None:
    assert trial_params({"n_jobs": 1}, SEED_GRID, 7) == {"n_jobs": 1, **GOLDEN[7]}


@pytest.mark.parametrize("index", [-1, 8, 100])
def test_index_outside_the_grid_is_a_config_error(index: int) -> None:
    with pytest.raises(ConfigError, match="outside the grid of 8"):
        combination(SEED_GRID, index)


def test_grid_cap_is_documented_value() -> None:
    assert GRID_CAP == 10_000


def test_trial_id_is_pinned_and_short() -> None:
    params = {"n_estimators": 350, "min_samples_split": 28, "random_state": 0}
    # Pinned: a change here renames every Experiment of every user; only change it on purpose.
    assert trial_id("RandomForestClassifier", params, "abcd1234") == "7c8da6a9"


def test_trial_id_ignores_key_order_but_not_content() -> None:
    a = trial_id("RandomForestClassifier", {"x": 1, "y": [1, 2]}, "v1")
    assert a == trial_id("RandomForestClassifier", {"y": [1, 2], "x": 1}, "v1")
    assert a != trial_id("RandomForestClassifier", {"x": 2, "y": [1, 2]}, "v1")
    assert a != trial_id("ExtraTreesClassifier", {"x": 1, "y": [1, 2]}, "v1")
    assert a != trial_id("RandomForestClassifier", {"x": 1, "y": [1, 2]}, "v2")


def test_data_version_depends_on_both_datasets() -> None:
    assert data_version("t", "s") == data_version("t", "s")
    assert len({data_version("t", "s"), data_version("t", "s2"), data_version("t2", "s")}) == 3


def test_local_run_ids_differ_within_one_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `kubedrift run`s started in the same second (even the same microsecond) get two folders."""
    from datetime import UTC, datetime

    from kubedrift.local import run as local_run
    from kubedrift.models.jobconfig import CheckJobConfig

    config = CheckJobConfig.model_validate(
        {
            "check": "bikes",
            "reference": {"uri": "r"},
            "current": {"uri": "c"},
            "storage": {"reportsUri": str(tmp_path)},
        }
    )
    first, second = (local_run.new_run_id(str(tmp_path), "bikes", config) for _ in range(2))
    assert (
        first != second and first.startswith("local-") and len(first) == len("local-20261202t013411-636050")
    )

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:
            return cls(2026, 12, 2, 1, 34, 11, 636050, tzinfo=UTC)

    monkeypatch.setattr(local_run, "datetime", Frozen)
    taken = local_run.new_run_id(str(tmp_path), "bikes", config)
    assert taken == "local-20261202t013411-636050"
    (tmp_path / "bikes" / taken).mkdir(parents=True)
    assert local_run.new_run_id(str(tmp_path), "bikes", config) == taken + "-2"
