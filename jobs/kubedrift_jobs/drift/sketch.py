"""The sketch form of a numerical column: an Apache DataSketches KLL sketch of its finite values.

A column with more finite values than `profile.EXACT_LIMIT_ROWS` is kept as a sketch instead of
every value. K = 2000 keeps about 6,000 of any number of values (about 50 KB serialized) and
answers a rank (the share of values ≤ x) within EPSILON = 0.19% of the true share: DataSketches'
a-priori normalized rank error for double-sided queries at 99% confidence
(`get_normalized_rank_error(2000, True)`; 0.14% for a single rank). The minimum and maximum
are exact. The bounds in `sketch_scores.py` take EPSILON as each CDF value's worst error; it is
a high-probability bound, not a certainty (measured errors are a fraction of it).

KLL sketches merge (of disjoint rows) without losing the bound, in any order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from datasketches import kll_doubles_sketch

K = 2000
EPSILON = float(kll_doubles_sketch.get_normalized_rank_error(K, True))
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
