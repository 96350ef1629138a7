"""The operator's param checks (a table, no scikit-learn) agree with scikit-learn itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from kubedrift.models.estimators import ESTIMATORS
from kubedrift.models.param_constraints import CONSTRAINTS
from kubedrift.models.params import param_value_problem
from kubedrift_jobs.train import param_table
from kubedrift_jobs.train.estimators import estimator_class

# JSON values a person might put in a grid: every type, edges of the usual ranges.
SAMPLES: list[Any] = [
    0,
    1,
    2,
    -5,
    0.0,
    0.5,
    1.0,
    1.5,
    -0.1,
    True,
    False,
    None,
    "sqrt",
    "gini",
    "many",
    "balanced",
    "log_loss",
    [1, 2],
    {"0": 1.0},
]


def unordered_sets(text: str | None) -> str | None:
    """scikit-learn prints its options as a Python set, in no fixed order."""
    sort = lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}"  # noqa: E731
    return None if text is None else re.sub(r"\{([^{}]*)\}", sort, text)


def test_the_committed_table_is_what_scikit_learn_says() -> None:
    assert param_table.TARGET.read_text() == param_table.render(), (
        "stale: run `python -m kubedrift_jobs.train.param_table`"
    )


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_a_value_is_refused_exactly_when_scikit_learn_refuses_it(estimator: str) -> None:
    declared = estimator_class(estimator)._parameter_constraints
    for param in CONSTRAINTS[estimator]:
        for value in SAMPLES:
            try:
                validate_parameter_constraints(
                    {param: declared[param]}, {param: value}, caller_name=estimator
                )
                sklearn_problem = None
            except InvalidParameterError as error:
                sklearn_problem = " ".join(str(error).split())
            ours = param_value_problem(estimator, param, value)
            assert unordered_sets(ours) == unordered_sets(sklearn_problem), (param, value)
