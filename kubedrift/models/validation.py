"""Validation errors worded the way the apiserver words them.

`kubectl apply` checks a DriftCheck against the CRD schema generated from these
models and its CEL rules. `kubedrift run` checks the same file with the models
themselves; this module turns pydantic's errors into the apiserver's field
errors, so a person sees the same sentence wherever the manifest is rejected
(a test sends the same broken manifests to a real apiserver and compares).

`field_error` is the one formatter of a single error. Everything else picks lines of it:
`invalid_message` for `kubedrift run` (all of them, as `kubectl apply` prints them),
`spec_problem` for the operator's Stalled condition, and `first_error` for what a job says of
its config and the plugin of a resource it cannot read.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from kubedrift.models.rules import RuleViolation
from kubedrift.text import shorten

# The apiserver checks CEL rules only once the object fits the OpenAPI schema, and says so.
RULES_SKIPPED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation"
)


# Schema errors after which the apiserver does not evaluate CEL rules (NotSupported,
# Required, TooLong, TooMany, TypeInvalid); other errors are reported beside the rules'.
BLOCKING = {
    "missing",
    "literal_error",
    "too_long",
    "string_too_long",
    "string_type",
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "dict_type",
    "model_type",
    "model_attributes_type",
    "list_type",
}


BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "greater than or equal to"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "less than or equal to"),
}


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)
    return f'"{type(value).__name__}"'


def _rule_path(loc: tuple[int | str, ...], rule_field_path: str | None) -> str:
    """Where the apiserver reports a rule: the object it sits on, plus its fieldPath."""
    if not rule_field_path:
        return field_path(loc) or "<nil>"  # a rule on the whole object, as the apiserver names it
    parts = rule_field_path.lstrip(".").split(".")
    # A rule checked by a field validator has that field at the end of loc already.
    base = loc[:-1] if loc and loc[-1] == parts[0] else loc
    return field_path((*base, *parts))


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _openapi_type(error_type: str) -> str:
    return {
        "string_type": "string",
        "int_type": "integer",
        "int_parsing": "integer",
        "int_from_float": "integer",
        "float_type": "number",
        "float_parsing": "number",
        "bool_type": "boolean",
        "bool_parsing": "boolean",
        "dict_type": "object",
        "model_type": "object",
        "model_attributes_type": "object",
        "list_type": "array",
    }.get(error_type, "")


def _short_json(value: Any, limit: int = 80) -> str:
    return shorten(json.dumps(value, sort_keys=True), limit)


def field_error(error: ErrorDetails) -> tuple[str, bool]:
    """One error as the apiserver prints it, and whether it comes from a rule (CEL or operator-side)."""
    path = field_path(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx", {})
    given = error.get("input")

    def invalid(value: str, detail: str) -> tuple[str, bool]:
        return f"{path}: Invalid value: {value}: {path} in body {detail}", False

    if kind == "missing":
        return f"{path}: Required value", False
    if kind == "literal_error":
        expected = str(ctx["expected"]).replace("'", "").replace(" or ", ", ").split(", ")
        supported = ", ".join(f'"{value}"' for value in expected)
        return f"{path}: Unsupported value: {_value(given)}: supported values: {supported}", False
    if kind in BOUNDS:
        key, words = BOUNDS[kind]
        return invalid(_value(given), f"should be {words} {_number(ctx[key])}")
    if kind == "too_short":
        unit = "properties" if ctx.get("field_type") == "Dictionary" else "items"
        return invalid(str(ctx["actual_length"]), f"should have at least {ctx['min_length']} {unit}")
    if kind == "too_long":
        actual = ctx.get("actual_length") or (len(given) if isinstance(given, dict | list) else None)
        return f"{path}: Too many: {actual}: must have at most {ctx['max_length']} items", False
    if kind == "string_too_short":
        return invalid(_value(given), f"should be at least {ctx['min_length']} chars long")
    if kind == "string_too_long":
        return f"{path}: Too long: may not be more than {ctx['max_length']} bytes", False
    if kind == "string_pattern_mismatch":
        return invalid(_value(given), f"should match '{ctx['pattern']}'")
    if kind == "extra_forbidden":
        return f'unknown field "{path}"', False
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, RuleViolation) and cause.operator_side:
            where = _rule_path(error["loc"], cause.rule.field_path)
            return f"{where}: Invalid value: {_short_json(cause.value)}: {cause}", True
        if isinstance(cause, RuleViolation):  # the CEL rule's message and fieldPath, word for word
            return f"{_rule_path(error['loc'], cause.rule.field_path)}: Invalid value: {cause}", True
        return f"{path}: Invalid value: {_value(given)}: {cause or error['msg']}", False
    openapi = _openapi_type(kind)
    if openapi:
        given_type = f'"{_json_type(given)}"'
        return invalid(given_type, f"must be of type {openapi}: {given_type}")
    return f"{path}: Invalid value: {_value(given)}: {error['msg']}", False


def _operator_side(detail: ErrorDetails) -> bool:
    cause = detail.get("ctx", {}).get("error")
    return isinstance(cause, RuleViolation) and cause.operator_side


def operator_problems(error: ValidationError, root: tuple[str, ...] = ("spec",)) -> list[str] | None:
    """The lines of the rules only the operator checks, or None when the apiserver refuses too.

    `root` is where the validated object sits in the resource, so the field paths read from
    the resource's top, as in the local run's message.
    """
    details = error.errors(include_url=False)
    if not details or not all(_operator_side(d) for d in details):
        return None
    return [field_error({**d, "loc": (*root, *d["loc"])})[0] for d in details]


def spec_problem(error: ValidationError) -> str:
    """Why the operator can't act on a stored spec, in the words `kubedrift run` uses for it."""
    details = error.errors(include_url=False)
    operator = operator_problems(error)
    lines = operator or [field_error({**d, "loc": ("spec", *d["loc"])})[0] for d in details]
    return "; ".join(lines)


def invalid_message(kind: str, name: str, error: ValidationError) -> str:
    """The whole message for a rejected object, as `kubectl apply` prints it.

    Rules only the operator checks are reported when nothing else is wrong: the apiserver
    would refuse the other errors first, and the operator never see the object.
    """
    details = error.errors(include_url=False)
    if not all(_operator_side(d) for d in details):
        details = [d for d in details if not _operator_side(d)]
    unknown = [field_error(d)[0] for d in details if d["type"] == "extra_forbidden"]
    if unknown:  # strict decoding fails before any validation runs
        return (
            f'{kind} in version "v1alpha1" cannot be handled as a {kind}: strict decoding error: '
            + ", ".join(unknown)
        )
    lines = [field_error(d) for d in details]
    for detail in details:
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, RuleViolation) and cause.preceded_by:
            lines.insert(0, (cause.preceded_by, False))
    if any(d["type"] in BLOCKING for d in details):
        lines_out = [text for text, from_rule in lines if not from_rule] + [RULES_SKIPPED]
    else:
        lines_out = [text for text, _ in lines]
    if len(lines_out) == 1:
        return f'The {kind} "{name}" is invalid: {lines_out[0]}'
    return f'The {kind} "{name}" is invalid: \n' + "\n".join(f"* {line}" for line in lines_out)


def first_error(error: ValidationError, root: str = "") -> str:
    """The first error as one `field_error` line, for a job's config and a resource the plugin reads.

    `root` names what was validated (e.g. "spec"), so the path reads from the object's top.
    """
    first = error.errors(include_url=False)[0]
    loc = tuple(part for part in (root, *first["loc"]) if part != "")
    if not loc and not isinstance(first.get("ctx", {}).get("error"), RuleViolation):
        return first["msg"]  # an error about no field at all: pydantic's sentence is all there is
    return field_error({**first, "loc": loc})[0]
