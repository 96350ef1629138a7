"""Does a JSON value meet an estimator's param constraints? scikit-learn's rules, without scikit-learn.

The constraints come from `param_constraints` (generated from scikit-learn's own
`_parameter_constraints`); the check follows `sklearn.utils._param_validation`, so a grid
value the training job would refuse is refused by the models first — in `kubedrift run`
and in the operator, before any Experiment exists — with scikit-learn's words.
"""

from __future__ import annotations

import math
from typing import Any

from kubedrift.models.param_constraints import CONSTRAINTS

_CLOSED_LEFT = ("left", "both")
_CLOSED_RIGHT = ("right", "both")


def _number_kind(value: Any) -> set[str]:
    # As in Python's numbers tower: a bool is an Integral, an int is a Real.
    if isinstance(value, bool | int):
        return {"int", "real"}
    if isinstance(value, float):
        return {"real", "real_not_int"}
    return set()


def _in_interval(value: Any, kind: str, left: Any, right: Any, closed: str) -> bool:
    if kind not in _number_kind(value) or (isinstance(value, float) and math.isnan(value)):
        return False
    if left is not None and (value < left or (value == left and closed not in _CLOSED_LEFT)):
        return False
    return right is None or not (value > right or (value == right and closed not in _CLOSED_RIGHT))


def _instance_of(value: Any, kind: str) -> bool:
    return {
        "int": isinstance(value, int),
        "real": isinstance(value, int | float),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "dict": isinstance(value, dict),
        "list": isinstance(value, list),
    }[kind]


def meets(value: Any, constraint: tuple[object, ...]) -> bool:
    kind, *args = constraint
    if kind == "interval":
        number_kind, left, right, closed = args
        return _in_interval(value, str(number_kind), left, right, str(closed))
    if kind == "options":
        return isinstance(value, str | int | float) and not isinstance(value, bool) and value in args
    if kind == "none":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "verbose":
        return isinstance(value, bool) or (isinstance(value, int) and value >= 0)
    if kind == "array-like":  # scikit-learn: anything with a length that is not a scalar
        return isinstance(value, list | dict)
    if kind == "instance":
        return _instance_of(value, str(args[0]))
    raise ValueError(f"unknown constraint {kind!r}")


def param_value_problem(estimator: str, param: str, value: Any) -> str | None:
    """scikit-learn's message for `param=value`, or None when the value meets a constraint."""
    known = CONSTRAINTS.get(estimator, {}).get(param)
    if known is None:
        return None
    words, constraints = known
    if any(meets(value, c) for c in constraints):
        return None
    return f"The {param!r} parameter of {estimator} must be {words}. Got {value!r} instead."
