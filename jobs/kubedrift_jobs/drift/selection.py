"""Which stat test and threshold a column gets: Evidently 0.7's defaults, then the spec's overrides.

Defaults (n = non-null reference rows, u = distinct values of both sides together):
  n ≤ 1000: numerical with u > 5 → ks; otherwise u > 2 → chisquare, u ≤ 2 → z
  n > 1000: numerical with u > 5 → wasserstein; otherwise → jensenshannon
Method and threshold are looked up independently, the most specific first:
`perColumn`, then the column type's override, then the test's default.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrift.errors import ConfigError
from kubedrift.models.driftcheck import DriftSettings, MethodOverride
from kubedrift_jobs.drift import registry
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest

SMALL_SAMPLE = 1000
FEW_NUMERICAL_VALUES = 5
BINARY = 2


def default_method(column_type: ColumnType, n_reference: int, n_distinct: int) -> str:
    numerical_enough = column_type == "numerical" and n_distinct > FEW_NUMERICAL_VALUES
    if n_reference <= SMALL_SAMPLE:
        if numerical_enough:
            return "ks"
        return "chisquare" if n_distinct > BINARY else "z"
    return "wasserstein" if numerical_enough else "jensenshannon"


@dataclass(frozen=True)
class Choice:
    test: StatTest
    threshold: float
    overridden: bool


def choose(
    column: str, column_type: ColumnType, n_reference: int, n_distinct: int, settings: DriftSettings
) -> Choice:
    overrides = [
        o for o in (settings.per_column.get(column), _by_type(settings, column_type)) if o is not None
    ]
    method = next((o.method for o in overrides if o.method is not None), None)
    threshold = next((o.threshold for o in overrides if o.threshold is not None), None)
    test = registry.get(method or default_method(column_type, n_reference, n_distinct))
    if column_type not in test.column_types:
        raise ConfigError(
            f"drift method {test.name!r} does not accept {column_type} columns (column {column!r}); "
            f"it accepts {', '.join(test.column_types)}"
        )
    return Choice(
        test=test,
        threshold=test.default_threshold if threshold is None else threshold,
        overridden=bool(method is not None or threshold is not None),
    )


def _by_type(settings: DriftSettings, column_type: ColumnType) -> MethodOverride | None:
    return settings.numerical if column_type == "numerical" else settings.categorical
