"""Which columns a trial reads and what role each plays, from the spec and the schema.

Pure: it looks at names and Arrow types only (the Parquet footer), never at
data, so a job knows exactly which columns to read before it reads any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubedrift.errors import ConfigError, DataUnreadable
from kubedrift.models.driftcheck import Columns

NUMERICAL_KINDS = ("int", "uint", "float", "double", "halffloat", "decimal")
CATEGORICAL_KINDS = ("string", "large_string", "string_view", "bool", "dictionary")


@dataclass(frozen=True)
class FeatureRoles:
    target: str
    numerical: tuple[str, ...]
    categorical: tuple[str, ...]
    # Columns that are neither excluded nor usable (dates, lists, ...): reported, not guessed at.
    skipped: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        return [*self.numerical, *self.categorical]

    @property
    def needed(self) -> list[str]:
        return [*self.features, self.target]


def kind_of(arrow_type: str) -> str:
    """'numerical', 'categorical' or 'other' for an Arrow type's string form."""
    if arrow_type.startswith(CATEGORICAL_KINDS):
        return "categorical"
    if arrow_type.startswith(NUMERICAL_KINDS):
        return "numerical"
    return "other"


def feature_roles(schema: Mapping[str, str], columns: Columns, uri: str) -> FeatureRoles:
    """Roles for every column of `schema` (name → Arrow type string) of the data at `uri`.

    Columns the spec names keep the role it gives them; the rest, minus the
    target and `exclude`, are inferred from their type.
    """
    if not columns.target:
        raise ConfigError("columns.target: training needs a target column")
    named = {
        "columns.target": [columns.target],
        "columns.numerical": list(columns.numerical or []),
        "columns.categorical": list(columns.categorical or []),
    }
    for field, names in named.items():
        missing = [name for name in names if name not in schema]
        if missing:
            raise DataUnreadable(
                f"{uri}: no column {', '.join(map(repr, missing))} ({field}); it has {', '.join(schema)}"
            )
    explicit = {*named["columns.numerical"], *named["columns.categorical"]}
    ignored = {columns.target, *columns.exclude}
    numerical = [n for n in named["columns.numerical"] if n not in ignored]
    categorical = [n for n in named["columns.categorical"] if n not in ignored]
    skipped = []
    for name, arrow_type in schema.items():
        if name in ignored or name in explicit:
            continue
        kind = kind_of(arrow_type)
        if kind == "numerical":
            numerical.append(name)
        elif kind == "categorical":
            categorical.append(name)
        else:
            skipped.append(name)
    if not numerical and not categorical:
        raise ConfigError(f"columns: no feature columns left in {uri} after the target and columns.exclude")
    return FeatureRoles(columns.target, tuple(numerical), tuple(categorical), tuple(skipped))
