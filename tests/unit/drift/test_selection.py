"""Default method selection across Evidently 0.7's size and cardinality boundaries, and overrides."""

from __future__ import annotations

import pytest

from kubedrift.errors import ConfigError
from kubedrift.models.driftcheck import DriftSettings
from kubedrift_jobs.drift.selection import choose, default_method


@pytest.mark.parametrize(
    ("column_type", "n", "u", "method"),
    [
        ("numerical", 1000, 6, "ks"),
        ("numerical", 1000, 5, "chisquare"),
        ("numerical", 1000, 3, "chisquare"),
        ("numerical", 1000, 2, "z"),
        ("numerical", 1, 1, "z"),
        ("categorical", 1000, 50, "chisquare"),
        ("categorical", 1000, 3, "chisquare"),
        ("categorical", 1000, 2, "z"),
        ("numerical", 1001, 6, "wasserstein"),
        ("numerical", 1001, 5, "jensenshannon"),
        ("numerical", 1001, 2, "jensenshannon"),
        ("categorical", 1001, 2, "jensenshannon"),
        ("categorical", 5_000_000, 100, "jensenshannon"),
    ],
)
def test_default_method_boundaries(column_type: str, n: int, u: int, method: str) -> None:
    assert default_method(column_type, n, u) == method  # type: ignore[arg-type]


def test_defaults_use_each_tests_threshold() -> None:
    choice = choose("x", "numerical", 5000, 100, DriftSettings())
    assert (choice.test.name, choice.threshold, choice.overridden) == ("wasserstein", 0.1, False)


def test_per_column_beats_per_type_and_method_and_threshold_resolve_independently() -> None:
    settings = DriftSettings.from_wire(
        {"numerical": {"method": "psi", "threshold": 0.2}, "perColumn": {"x": {"threshold": 0.3}}}
    )
    x = choose("x", "numerical", 50, 100, settings)
    y = choose("y", "numerical", 50, 100, settings)
    assert (x.test.name, x.threshold, x.overridden) == ("psi", 0.3, True)
    assert (y.test.name, y.threshold) == ("psi", 0.2)
    assert choose("c", "categorical", 50, 3, settings).test.name == "chisquare"


def test_a_method_that_cannot_take_the_column_type_is_a_config_error() -> None:
    settings = DriftSettings.from_wire({"perColumn": {"colour": {"method": "ks"}}})
    with pytest.raises(ConfigError, match="'ks' does not accept categorical columns"):
        choose("colour", "categorical", 50, 3, settings)
