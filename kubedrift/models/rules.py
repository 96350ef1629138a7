"""Validation rules that hold in two places: the apiserver (as CEL) and Python.

A rule is declared once, with the CEL expression the CRD carries and the
message both sides give, so `kubectl apply` and `kubedrift run` reject the same
manifest with the same words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ConfigDict

from kubedrift.models.base import Model

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    cel: str
    message: str
    field_path: str | None = None

    def to_wire(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"rule": self.cel, "message": self.message}
        if self.field_path:
            rule["fieldPath"] = self.field_path
        return rule

    def check(self, holds: bool, value: T) -> T:
        """Pass `value` through when the rule holds; raise its message when not."""
        if not holds:
            raise RuleViolation(self)
        return value


@dataclass(frozen=True)
class OperatorRule:
    """A rule CEL can't express (it would have to see into the grid's untyped values).

    The apiserver accepts such a spec; the models refuse it, so `kubedrift run` says so at
    once and the operator marks the DriftCheck Stalled before any child exists, both with
    the line `<field>: Invalid value: <value>: <message>`.
    """

    message: str
    field_path: str

    def violation(self, value: Any) -> RuleViolation:
        return RuleViolation(Rule(cel="", message=self.message, field_path=self.field_path), value=value)


class RuleViolation(ValueError):
    """A Rule that does not hold; it knows the field the apiserver would name.

    `value` is set for an OperatorRule: the offending value, shown as the apiserver
    shows a field's value.
    """

    def __init__(self, rule: Rule, value: Any = None) -> None:
        super().__init__(rule.message)
        self.rule = rule
        self.value = value
        self.preceded_by: str | None = None  # a line the apiserver prints before this rule's

    @property
    def operator_side(self) -> bool:
        return not self.rule.cel


def cel_matches(field: str, pattern: str) -> str:
    """A CEL expression that holds when `field` matches the Python/RE2 `pattern`."""
    literal = pattern.replace("\\", "\\\\").replace("'", "\\'")
    return f"{field}.matches('{literal}')"


def matches(pattern: str, value: str) -> bool:
    """What CEL's `value.matches(pattern)` answers, so Python agrees with the apiserver on every value.

    CEL's is RE2's search, where `$` holds only at the end of the text; Python's `$` also holds
    before a final newline, so `"s3\\n"` would pass here and be refused by `kubectl apply`.
    """
    return _as_re2(pattern).search(value) is not None


@functools.cache
def _as_re2(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def cel_rules(*rules: Rule) -> ConfigDict:
    """A model config that carries `rules` into the CRD schema as x-kubernetes-validations."""
    return ConfigDict(
        **Model.model_config,
        json_schema_extra={"x-kubernetes-validations": [r.to_wire() for r in rules]},
    )
