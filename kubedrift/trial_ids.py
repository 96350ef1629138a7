"""Short, stable trial ids, like the `exp-63459` of `dvc exp show`.

An id is a hash of what makes a trial what it is — the estimator, its full
params and the data version — so the same trial on the same data has the same id
on every machine, and a retrain on new data gets new ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# 8 hex digits: 4 billion values, so the chance of two equal ids in a run at the
# 10,000-trial grid cap is about 1 % (birthday bound); names stay short.
TRIAL_ID_LENGTH = 8


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def trial_id(estimator: str, params: Mapping[str, Any], data_version: str) -> str:
    """The id of fitting `estimator(**params)` on the data identified by `data_version`."""
    text = canonical_json({"data": data_version, "estimator": estimator, "params": dict(params)})
    return hashlib.sha256(text.encode()).hexdigest()[:TRIAL_ID_LENGTH]


def data_version(train_content_hash: str, test_content_hash: str | None) -> str:
    """One short version for the pair of datasets a trial used."""
    digest = hashlib.sha256(f"{train_content_hash}\0{test_content_hash or ''}".encode()).hexdigest()
    return digest[:TRIAL_ID_LENGTH]
