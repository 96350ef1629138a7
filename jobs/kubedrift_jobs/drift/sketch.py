"""The sketch form of a numerical column: an Apache DataSketches KLL sketch of its finite values.

A column with more stored values than `profile.EXACT_LIMIT_ROWS` is kept as a sketch instead of
every value. K = 2000 keeps about 6,000 of any number of values (48 KB serialized at 10M) and
answers a rank (the share of values ≤ x) within EPSILON = 0.14% of the true share, and the
share between two values (a histogram bin) within EPSILON_SHARE = 0.19%: DataSketches' a-priori
normalized rank errors at 99% confidence (`get_normalized_rank_error(2000, pmf)`, single-sided
and double-sided). The minimum and maximum are exact. The bounds in `sketch_scores.py` take
them as each CDF value's and each bin share's worst error, for all values at once: a
high-probability bound, not a certainty (the errors measured are a tenth of it).

KLL sketches merge (of disjoint rows) without losing the bound, in any order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from datasketches import kll_doubles_sketch

K = 2000
EPSILON = float(kll_doubles_sketch.get_normalized_rank_error(K, False))
EPSILON_SHARE = float(kll_doubles_sketch.get_normalized_rank_error(K, True))
BLOCK = 1 << 20


def of_values(values: np.ndarray) -> kll_doubles_sketch:
    """A sketch of finite float64 values."""
    sketch = kll_doubles_sketch(K)
    for start in range(0, values.size, BLOCK):
        # A writable copy a block at a time: the binding refuses read-only (Arrow-backed) arrays.
        sketch.update(np.array(values[start : start + BLOCK], dtype=np.float64))
    return sketch


def of_counts(values: np.ndarray, counts: np.ndarray) -> kll_doubles_sketch:
    """A sketch of distinct finite values with their counts, a block of repeats at a time (no
    full-size copy: a counts form past the limit has millions of distinct values)."""
    sketch = kll_doubles_sketch(K)
    start = 0
    while start < values.size:
        stop = min(start + BLOCK, values.size)
        # Fewer distinct values per block if their counts are large: repeats stay ~4M at a time.
        while stop - start > 1 and int(counts[start:stop].sum()) > 4 * BLOCK:
            stop = start + (stop - start) // 2
        sketch.update(np.repeat(values[start:stop], counts[start:stop]).astype(np.float64))
        start = stop
    return sketch


def merged(sketches: Iterable[kll_doubles_sketch]) -> kll_doubles_sketch:
    total = kll_doubles_sketch(K)
    for sketch in sketches:
        total.merge(sketch)
    return total


def to_bytes(sketch: kll_doubles_sketch) -> bytes:
    return bytes(sketch.serialize())


def from_bytes(data: bytes) -> kll_doubles_sketch:
    return kll_doubles_sketch.deserialize(data)
