"""The sketch form of a numerical column: an Apache DataSketches KLL sketch of its finite values.

A column with more stored values than `profile.EXACT_LIMIT_ROWS` is kept as a sketch instead of
every value. K = 2000 keeps about 6,000 of any number of values (48 KB serialized) and
answers a rank (the share of values ≤ x) within EPSILON = 0.14% of the true share, and the
share between two values (a histogram bin) within EPSILON_SHARE = 0.19%: DataSketches' a-priori
normalized rank errors at 99% confidence (`get_normalized_rank_error(2000, pmf)`, single-sided
and double-sided). The minimum and maximum are exact. The bounds in `sketch_scores.py` take
them as each CDF value's and each bin share's worst error, for all values at once: a
high-probability bound, not a certainty (the errors measured are a tenth of it).

Beside the sketch, the TAIL smallest and largest values are kept exactly (20,000 each, 320 KB;
a 10M-value column's profile is 369 KB instead of 80 MB):
the CDF is then exact below the TAIL-th smallest and above the TAIL-th largest value, where a
rank error costs the most (Wasserstein weighs it by the tails' spread, PSI by the tiny shares
of the outer bins). KLL sketches and tails merge (of disjoint rows) without losing the bound,
in any order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from datasketches import kll_doubles_sketch

K = 2000
EPSILON = float(kll_doubles_sketch.get_normalized_rank_error(K, False))
EPSILON_SHARE = float(kll_doubles_sketch.get_normalized_rank_error(K, True))
BLOCK = 1 << 20
TAIL = 20_000

Tails = tuple[np.ndarray, np.ndarray]  # the TAIL smallest and TAIL largest values, each sorted


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


def tails_of_sorted(values: np.ndarray) -> Tails:
    return np.array(values[:TAIL], dtype=np.float64), np.array(values[-TAIL:], dtype=np.float64)


def tails_of_counts(values: np.ndarray, counts: np.ndarray) -> Tails:
    """The tails of distinct sorted values with their counts, without expanding the rest."""
    ends = np.cumsum(counts)
    low_stop = int(np.searchsorted(ends, TAIL)) + 1  # distinct values reaching TAIL repeats
    high_start = int(np.searchsorted(ends, ends[-1] - TAIL, side="right")) if ends.size else 0
    # No value repeats more than TAIL times in a tail: clipping keeps the expansions small.
    low = np.repeat(values[:low_stop], np.minimum(counts[:low_stop], TAIL))[:TAIL]
    high = np.repeat(values[high_start:], np.minimum(counts[high_start:], TAIL))[-TAIL:]
    return low.astype(np.float64), high.astype(np.float64)


def merged_tails(parts: Iterable[Tails]) -> Tails:
    lows, highs = zip(*parts, strict=True)
    return np.sort(np.concatenate(lows))[:TAIL], np.sort(np.concatenate(highs))[-TAIL:]
