"""Grid expansion: completion index i ↔ the i-th combination of the grid.

The order is part of the contract between the operator (which creates one
Experiment per index) and the job (which trains the combination of its index),
and it must be the same on every machine and Python version:

* param names are sorted by Unicode code point — not taken in the order the user
  wrote them, because a spec that went through the Kubernetes API comes back with
  its map keys in whatever order the apiserver serialised them;
* each param's values keep the order of their list (lists are ordered in YAML,
  JSON and etcd alike);
* the last name varies fastest, like nested loops or `itertools.product`.

So for `{"n_estimators": [350, 500], "min_samples_split": [28, 64]}` the names
sort as (min_samples_split, n_estimators) and the indexes are:

    0: min_samples_split=28, n_estimators=350
    1: min_samples_split=28, n_estimators=500
    2: min_samples_split=64, n_estimators=350
    3: min_samples_split=64, n_estimators=500

`combination(grid, i)` decodes i as a mixed-radix number without building the
whole grid, so a 10,000-trial grid costs one index's work per pod.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kubedrift.errors import ConfigError

# A grid larger than this is almost certainly a mistake (and would create as
# many Experiment objects in etcd); a random search is the right tool beyond it.
GRID_CAP = 10_000

Grid = Mapping[str, Sequence[Any]]


def grid_size(grid: Grid) -> int:
    """How many combinations the grid has; an empty grid is one trial of the fixed params."""
    return math.prod(len(values) for values in grid.values())


def combination(grid: Grid, index: int) -> dict[str, Any]:
    """The grid params of completion index `index` (see the module docstring for the order)."""
    size = grid_size(grid)
    if not 0 <= index < size:
        raise ConfigError(f"index {index} is outside the grid of {size} combination(s) (0..{size - 1})")
    chosen: dict[str, Any] = {}
    remainder = index
    for name in reversed(sorted(grid)):  # the last name is the fastest digit
        values = grid[name]
        remainder, digit = divmod(remainder, len(values))
        chosen[name] = values[digit]
    return {name: chosen[name] for name in sorted(chosen)}


def combinations(grid: Grid) -> Iterator[dict[str, Any]]:
    """Every combination, in index order."""
    for index in range(grid_size(grid)):
        yield combination(grid, index)


def trial_params(fixed: Mapping[str, Any], grid: Grid, index: int) -> dict[str, Any]:
    """The full constructor params of index `index`: the fixed params plus its grid values."""
    return {**fixed, **combination(grid, index)}
