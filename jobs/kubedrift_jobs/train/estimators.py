"""The allow-list of estimators and the check of their params against scikit-learn.

Only these classes can be named in a spec: a name is mapped to a class here, and
never imported from a user-supplied string. Params are checked with
scikit-learn's own rules (`get_params()` for the names, `_parameter_constraints`
for the types and ranges), so this module cannot disagree with the estimator
about what a valid value is. Checks that depend on two params at once (e.g.
`max_samples` without `bootstrap`) only fail at fit time and become a
TrainingError there.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import Any

from kubedrift.errors import ConfigError
from kubedrift.grid import GRID_CAP, grid_size
from kubedrift.models.driftcheck import Retrain
from kubedrift.models.estimators import ESTIMATORS, SEED_PARAM, Estimator

MAX_REPORTED_PROBLEMS = 5


def estimator_info(name: str) -> Estimator:
    try:
        return ESTIMATORS[name]
    except KeyError:
        raise ConfigError(
            f"retrain.model.estimator: {name!r} is not allow-listed; use one of {', '.join(ESTIMATORS)}"
        ) from None


def estimator_class(name: str) -> type[Any]:
    """The scikit-learn class of an allow-listed name, imported from the table's module only."""
    info = estimator_info(name)
    cls: type[Any] = getattr(importlib.import_module(info.module), info.name)
    return cls


def param_problem(estimator: str, name: str, value: Any) -> str | None:
    """What is wrong with `name=value` for `estimator`, or None when scikit-learn would accept it."""
    from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

    cls = estimator_class(estimator)
    known = cls().get_params(deep=False)
    if name == SEED_PARAM:
        return "set retrain.randomSeed instead, so every trial uses the same seed"
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        return f"{estimator} has no param {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    constraints: dict[str, Any] = getattr(cls, "_parameter_constraints", {})
    if name in constraints:
        try:
            validate_parameter_constraints({name: constraints[name]}, {name: value}, caller_name=estimator)
        except InvalidParameterError as error:
            return _one_line(str(error))
    return None


def param_problems(estimator: str, params: Mapping[str, Any], field: str) -> list[str]:
    """One message per bad param of `params`, each naming its field as `<field>.<name>`."""
    found = ((name, param_problem(estimator, name, value)) for name, value in params.items())
    return [f"{field}.{name}: {problem}" for name, problem in found if problem]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def validate_retrain(retrain: Retrain) -> None:
    """Check the whole grid before any trial starts; raise one ConfigError naming each bad field."""
    problems = param_problems(retrain.model.estimator, retrain.model.params, "retrain.model.params")
    for name, values in sorted(retrain.grid.items()):
        if not values:
            problems.append(f"retrain.grid.{name}: needs at least one value")
        if name in retrain.model.params:
            problems.append(f"retrain.grid.{name}: also set in retrain.model.params; keep it in one place")
        for position, value in enumerate(values):
            problem = param_problem(retrain.model.estimator, name, value)
            if problem:
                problems.append(f"retrain.grid.{name}[{position}]: {problem}")
    size = grid_size(retrain.grid)
    if size > GRID_CAP:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in sorted(retrain.grid.items()))
        problems.append(f"retrain.grid: {size} combinations ({sizes}) exceed the cap of {GRID_CAP}")
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        raise ConfigError("; ".join(shown) + (f"; and {more} more" if more else ""))


def constructor_params(estimator: str, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The params the estimator is built with: `params` plus the seed where the estimator takes one."""
    cls = estimator_class(estimator)
    seeded = SEED_PARAM in cls().get_params(deep=False)
    return {**params, SEED_PARAM: seed} if seeded else dict(params)


def make_estimator(estimator: str, params: Mapping[str, Any]) -> Any:
    """The unfitted estimator, from the output of `constructor_params`."""
    return estimator_class(estimator)(**params)
