"""Experiment names: `<check>-<run>-<index>` in-cluster, `exp-<trialId>` locally (docs/concepts.md)."""

from __future__ import annotations

from kubedrift.table.trials import experiment_name
from kubedrift_operator import names


def test_a_cluster_experiment_is_named_by_check_run_and_index() -> None:
    assert names.experiment("bikes", "r1a2b3c", 4) == "bikes-r1a2b3c-4"


def test_a_local_experiment_is_named_by_its_trial_id() -> None:
    assert experiment_name("ab12cd34") == "exp-ab12cd34"
