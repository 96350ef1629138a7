"""Kubernetes resource quantities (`500m`, `1Gi`, `2`), read the way the apiserver reads them.

`retrain.resources` becomes the training container's resources. The CRD checks it with
CEL's `isQuantity()`/`quantity()`; this module is the same grammar in Python, so
`kubedrift run` refuses what the apiserver refuses, and compares what it compares.
"""

from __future__ import annotations

import re
from decimal import Decimal

from kubedrift.models.rules import matches

# <signedNumber><suffix>, suffix one of the binary SI, decimal SI or a decimal exponent.
QUANTITY_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([KMGTPE]i|[mkMGTPE]|[eE][+-]?[0-9]+)?$"
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9)}
_DECIMAL |= {"T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}


def is_quantity(value: str | int) -> bool:
    return isinstance(value, int) or matches(QUANTITY_PATTERN, value)


def quantity(value: str | int) -> Decimal:
    """The quantity's value; `value` must pass `is_quantity`."""
    if isinstance(value, int):
        return Decimal(value)
    match = re.match(QUANTITY_PATTERN, value)
    if match is None:
        raise ValueError(f"{value!r} is not a quantity")
    suffix = match.group(2) or ""
    number = Decimal(value[: len(value) - len(suffix)] if suffix else value)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number
