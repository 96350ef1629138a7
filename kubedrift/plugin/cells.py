"""How one value of the comparison table reads as text, the same in every format."""

from __future__ import annotations

import json
from collections.abc import Mapping

from kubedrift.models.driftcheck import ParamValue
from kubedrift.plugin.table import Row

MISSING = "-"
UNDEFINED = "n/a"


def param_text(value: ParamValue) -> str:
    """A param as YAML would spell it: true, null, 0.1, gini, [1, 2]."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, separators=(", ", ": "))


def metric_text(value: float, precision: int = 5) -> str:
    return f"{value:.{precision}g}"


def metric_cell(row: Row, metric: str, precision: int = 5) -> str:
    if metric in row.metrics:
        return metric_text(row.metrics[metric], precision)
    if metric in row.undefined_metrics:
        return UNDEFINED
    return MISSING


def param_cell(row: Row, param: str) -> str:
    return param_text(row.params[param]) if param in row.params else MISSING


def params_line(params: Mapping[str, ParamValue], names: tuple[str, ...] | list[str]) -> str:
    """Params as `name=value` pairs in the given order, for a folded Params column."""
    return " ".join(f"{name}={param_text(params[name])}" for name in names if name in params)
