"""Multiple-testing correction for the p-value tests of one check."""

from __future__ import annotations

import numpy as np

from kubedrift.models.driftcheck import Correction


def adjust(p_values: list[float], method: Correction) -> list[float]:
    """Adjusted p-values in the input order: Bonferroni, or Benjamini–Hochberg's step-up."""
    if method == "none" or not p_values:
        return list(p_values)
    p = np.asarray(p_values, dtype=np.float64)
    k = p.size
    if method == "bonferroni":
        return [float(x) for x in np.minimum(p * k, 1.0)]
    order = np.argsort(p)
    ranked = p[order] * k / np.arange(1, k + 1)
    # Step-up: each adjusted p is the smallest of the ranked values at or above it.
    monotone = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(k)
    adjusted[order] = np.minimum(monotone, 1.0)
    return [float(x) for x in adjusted]
