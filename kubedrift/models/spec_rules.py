"""The DriftCheck's cross-field and format rules: each a CEL expression and its Python twin.

Every rule here holds at `kubectl apply` time (the CRD carries the CEL) and in the models
(so `kubedrift run` and the operator refuse the same spec with the same words). What CEL
can express is here; what it can't (the grid's values) lives in `kubedrift.models.params`
and is refused by the operator before any child exists.

The CEL must stay within the apiserver's cost budget, so every list and map a rule walks
has a bound in the schema (maxItems, maxProperties, maxLength).
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from kubedrift.models.quantity import is_quantity, quantity
from kubedrift.models.rules import OperatorRule, Rule, cel_matches, matches

# --- schedule --------------------------------------------------------------------------------

# What Kubernetes' CronJob validation accepts: robfig/cron's ParseStandard. Its bounds (day of
# week is 0-6: 7 is refused), names in the month and day-of-week fields at either end of a range,
# `?` as a synonym of `*`, a step of at least 1, and a descriptor only as the whole schedule. A few
# forms robfig lets through by accident (`1,,2`, `+5`, `*-5`) are refused here.
_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {name: n for n, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}


def _cron_field(value: str) -> str:
    """One cron field: `*`, `?`, a value or a range, with an optional step; a comma-separated list of them."""
    item = f"(\\*|\\?|{value}(-{value})?)(/0*[1-9][0-9]{{0,17}})?"
    return f"{item}(,{item})*"


_CRON_FIELDS = (
    _cron_field("0*[1-5]?[0-9]"),  # minute
    _cron_field("0*(1?[0-9]|2[0-3])"),  # hour
    _cron_field("0*([1-9]|[12][0-9]|3[01])"),  # day of month
    _cron_field(f"(0*([1-9]|1[0-2])|(?i:{'|'.join(_MONTHS)}))"),  # month
    _cron_field(f"(0*[0-6]|(?i:{'|'.join(_DAYS)}))"),  # day of week
)
# The descriptors robfig/cron (Kubernetes' parser) accepts for a whole schedule, and what they mean.
CRON_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
CRON_PATTERN = (
    rf"^(@({'|'.join(name[1:] for name in CRON_DESCRIPTORS)})|\s*" + r"\s+".join(_CRON_FIELDS) + r"\s*)$"
)
TIME_ZONE_PREFIX = r"^\s*(CRON_)?TZ="
SCHEDULE_TIME_ZONE_RULE = Rule(
    cel=f"!{cel_matches('self.schedule', TIME_ZONE_PREFIX)}",
    message="schedule must not start with CRON_TZ= or TZ=; put the time zone in spec.timeZone "
    "(e.g. timeZone: Europe/Berlin) and keep the five cron fields in schedule",
    field_path=".schedule",
)
SCHEDULE_RULE = Rule(
    cel=f"{cel_matches('self.schedule', TIME_ZONE_PREFIX)} || {cel_matches('self.schedule', CRON_PATTERN)}",
    message="schedule must be a cron expression of five fields (minute 0-59, hour 0-23, day-of-month "
    "1-31, month 1-12 or jan-dec, day-of-week 0-6 or sun-sat), each *, a number, a range (1-5), a list "
    "(1,15) or a step of at least 1 (*/10), or one of @hourly, @daily, @weekly, @monthly, @yearly alone",
    field_path=".schedule",
)
# A regular expression can't compare the two ends of a range, so this one is operator-side.
SCHEDULE_RANGE_RULE = OperatorRule(
    message="schedule ranges must run from low to high (1-5, mon-fri), not high to low (5-1): the "
    "CronJob refuses them; write a wrapping range as a list, e.g. 22-23,0-2 or fri,sat,sun",
    field_path=".schedule",
)


def cron_value(value: str) -> int:
    """One end of a cron range as a number: 5, 05, jan or Mon."""
    lowered = value.lower()
    return _MONTHS.get(lowered, _DAYS.get(lowered, 0)) if lowered.isalpha() else int(value)


def reversed_cron_range(schedule: str) -> bool:
    """Whether a schedule that matches CRON_PATTERN has a range whose start is after its end."""
    if schedule.startswith("@"):
        return False
    for field in schedule.split():
        for item in field.split(","):
            ends = item.split("/")[0].split("-")
            if len(ends) == 2 and cron_value(ends[0]) > cron_value(ends[1]):
                return True
    return False


def check_schedule(schedule: str) -> str:
    if re.match(TIME_ZONE_PREFIX, schedule):
        return SCHEDULE_TIME_ZONE_RULE.check(False, schedule)
    SCHEDULE_RULE.check(matches(CRON_PATTERN, schedule), schedule)
    if reversed_cron_range(schedule):
        raise SCHEDULE_RANGE_RULE.violation(schedule)
    return schedule


# --- time zone -------------------------------------------------------------------------------

# Kubernetes' CronJob validation: every part of the name an IANA file name component (digits
# and '+' tolerated for legacy names), not Local, and a zone Go's time.LoadLocation finds. CEL
# has no time-zone function, so this one is operator-side; zoneinfo reads the same IANA
# database (the system's, else the tzdata package).
_TIME_ZONE_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")
TIME_ZONE_RULE = OperatorRule(
    message="timeZone must be an IANA time zone name such as Europe/Berlin, America/New_York or UTC "
    "(not Local; the list is at https://www.iana.org/time-zones), or left out for the controller "
    "manager's time zone",
    field_path=".timeZone",
)


def is_time_zone(name: str) -> bool:
    parts = name.split("/")
    if any(p in (".", "..") or p.startswith("-") or not _TIME_ZONE_PART.fullmatch(p) for p in parts):
        return False
    if name.lower() == "local":
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, not a TZif file, not a key
        return False
    return True


# --- names -----------------------------------------------------------------------------------

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
SECRET_NAME_RULE = Rule(
    cel=cel_matches("self.name", DNS_SUBDOMAIN),
    message="secretRef.name must be the name of a Secret: lowercase letters, digits, '-' and '.', "
    "starting and ending with a letter or digit",
    field_path=".name",
)

# --- columns ---------------------------------------------------------------------------------

MAX_COLUMNS = 1000
COLUMNS_OVERLAP_RULE = Rule(
    cel="!has(self.numerical) || !has(self.categorical) || !self.numerical.exists(c, c in self.categorical)",
    message="a column may be numerical or categorical, not both: remove it from columns.numerical "
    "or from columns.categorical",
    field_path=".categorical",
)


def columns_overlap(numerical: Sequence[str] | None, categorical: Sequence[str] | None) -> bool:
    return bool(set(numerical or ()) & set(categorical or ()))


# --- resources -------------------------------------------------------------------------------

MAX_RESOURCES = 16
STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _name_rule(field: str) -> Rule:
    return Rule(
        cel=f"self.{field}.all(k, k in {list(STANDARD_RESOURCES)} || k.startsWith('hugepages-') "
        "|| k.contains('/'))",
        message=f"resources.{field} may only name cpu, memory, ephemeral-storage, hugepages-<size> "
        "or an extended resource <domain>/<name>",
        field_path=f".{field}",
    )


def _cel_quantity(value: str) -> str:
    return f"(type({value}) == int ? quantity(string({value})) : quantity({value}))"


def _cel_is_quantity(value: str) -> str:
    return f"(type({value}) == int ? {value} >= 0 : isQuantity({value}))"


def _quantity_rule(field: str) -> Rule:
    value = f"self.{field}[k]"
    return Rule(
        cel=f"self.{field}.all(k, {_cel_is_quantity(value)} && "
        f"{_cel_quantity(value)}.compareTo(quantity('0')) >= 0)",
        message=f"resources.{field} values must be quantities of at least 0, such as 500m or 2 (cpu) "
        "and 512Mi or 1Gi (memory)",
        field_path=f".{field}",
    )


RESOURCE_NAME_RULES = (_name_rule("requests"), _name_rule("limits"))
RESOURCE_QUANTITY_RULES = (_quantity_rule("requests"), _quantity_rule("limits"))
_REQUEST, _LIMIT = "self.requests[k]", "self.limits[k]"
REQUESTS_WITHIN_LIMITS_RULE = Rule(
    cel=f"self.requests.all(k, !(k in self.limits) || !{_cel_is_quantity(_REQUEST)} "
    f"|| !{_cel_is_quantity(_LIMIT)} || {_cel_quantity(_REQUEST)}.compareTo({_cel_quantity(_LIMIT)}) <= 0)",
    message="each of resources.requests must be at most its resources.limits",
    field_path=".requests",
)


def _valid_quantity(value: str | int) -> bool:
    return is_quantity(value) and quantity(value) >= 0


def _valid_resource_name(name: str) -> bool:
    return name in STANDARD_RESOURCES or name.startswith("hugepages-") or "/" in name


def check_resources(requests: Mapping[str, str | int], limits: Mapping[str, str | int]) -> None:
    """The resources rules in the order the CRD lists them; raises the first that fails."""
    for rule, values in zip(RESOURCE_NAME_RULES, (requests, limits), strict=True):
        rule.check(all(_valid_resource_name(k) for k in values), values)
    for rule, values in zip(RESOURCE_QUANTITY_RULES, (requests, limits), strict=True):
        rule.check(all(_valid_quantity(v) for v in values.values()), values)
    within = all(
        quantity(v) <= quantity(limits[k])
        for k, v in requests.items()
        if k in limits and _valid_quantity(v) and _valid_quantity(limits[k])
    )
    REQUESTS_WITHIN_LIMITS_RULE.check(within, requests)


# --- the grid --------------------------------------------------------------------------------

# A grid larger than this is almost certainly a mistake (and would create as many
# Experiment objects in etcd); a random search is the right tool beyond it.
MAX_TRIALS = 10_000
MAX_GRID_PARAMS = 32
# CEL can't see the grid at all: its values have no type (a param takes numbers, strings,
# booleans or null), and the apiserver declares no CEL field for type-less list items
# ("undefined field 'grid'"). So these two are operator-side rules: the models refuse them,
# `kubedrift run` at once and the operator before any Experiment exists.
GRID_CAP_RULE = OperatorRule(
    message=f"grid must have at most {MAX_TRIALS} combinations (the product of its lists' lengths); "
    "drop values or params, or split the search into several runs",
    field_path=".grid",
)
MAX_FAILED_RULE = OperatorRule(
    message="maxFailedIndexes must be at most the number of trials (the product of the grid's lists' "
    "lengths)",
    field_path=".maxFailedIndexes",
)


def trials(grid: Mapping[str, Sequence[Any]]) -> int:
    """How many combinations the grid has; an empty grid is one trial of the fixed params."""
    return math.prod(len(values) for values in grid.values())


# --- train and test data ---------------------------------------------------------------------


def _cel_normalised(uri: str) -> str:
    plain = f"({uri}.startsWith('file://') ? {uri}.substring(7) : {uri})"
    return f"({plain}.endsWith('/') ? {plain}.substring(0, size({plain}) - 1) : {plain})"


def normalised_uri(uri: str) -> str:
    """The URI as the CEL rule compares it: file:// dropped, no trailing slash."""
    plain = uri.removeprefix("file://")
    return plain[:-1] if plain.endswith("/") else plain


SAME_DATA_MESSAGE = (
    "test must not be the same data as train, nor overlap it (one location inside the other): a model "
    "scored on data it was trained on looks better than it is and the wrong one gets promoted; point "
    "test at held-out data, or set allowTestOnTrainData: true"
)
# CEL compares the two URIs as written (less file:// and a trailing slash) ...
SAME_DATA_RULE = Rule(
    cel=f"(has(self.allowTestOnTrainData) && self.allowTestOnTrainData) || "
    f"(has(self.train.window) && has(self.test.window)) || "
    f"{_cel_normalised('self.train.uri')} != {_cel_normalised('self.test.uri')}",
    message=SAME_DATA_MESSAGE,
    field_path=".test.uri",
)
# ... the rest (./x and x, a folder and a file in it, a glob and what it picks) needs path
# normalisation CEL lacks: operator-side, in the same words (kubedrift.uris.overlaps).
DATA_OVERLAP_RULE = OperatorRule(message=SAME_DATA_MESSAGE, field_path=".test.uri")
