"""Where a trial's outputs go, and the model format.

Layout, one folder per completion index (and one for the baseline):

    <reportsUri>/<check>/<run>/<index>/model.skops    the fitted pipeline
                                       /metrics.json   metrics, undefined metrics with reasons
                                       /params.json    estimator, full params, seed
                                       /data.json      fingerprints of train and test (the data version)
                                       /trial.json     the summary, timings, fit warnings
    <reportsUri>/<check>/<run>/baseline/               the same for the production model (no model copy)

Models are saved with skops, not pickle: loading a pickle runs whatever code
the file names, while skops only rebuilds the types it is told to trust. We
trust scikit-learn's own estimators (skops' default) plus the few inner types
our pipelines contain (TRUSTED_MODEL_TYPES), and refuse anything else — so a
tampered artifact in a bucket cannot execute code in the job or in `kubedrift`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubedrift import storage
from kubedrift.errors import ConfigError, DataUnreadable

if TYPE_CHECKING:
    from kubedrift.models.driftcheck import Storage

MODEL_FILE = "model.skops"
BASELINE_FOLDER = "baseline"
# Inner types of the allow-listed estimators' pipelines that skops does not trust by
# default (found by saving each one; a test keeps this list complete and no larger).
TRUSTED_MODEL_TYPES = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)


def trial_uri(reports_uri: str, check: str, run: str, index: int | str) -> str:
    return storage.join(reports_uri, check, run, str(index))


def model_uri(folder_or_file: str) -> str:
    """A model artifact's file: the URI itself if it names a .skops file, else its model.skops."""
    return folder_or_file if folder_or_file.endswith(".skops") else storage.join(folder_or_file, MODEL_FILE)


def dump_model(model: Any) -> bytes:
    import skops.io

    return bytes(skops.io.dumps(model))


def load_model(data: bytes, where: str) -> Any:
    """Rebuild a model saved by `dump_model`, refusing any type outside the trusted set."""
    import skops.io

    try:
        untrusted = set(skops.io.get_untrusted_types(data=data))
    except Exception as error:  # a truncated or foreign file: zipfile, json or skops errors
        raise DataUnreadable(f"{where}: not a skops model file ({type(error).__name__}: {error})") from error
    refused = sorted(untrusted - TRUSTED_MODEL_TYPES)
    if refused:
        raise ConfigError(f"{where}: the model contains types kubedrift does not trust: {', '.join(refused)}")
    try:
        return skops.io.loads(data, trusted=sorted(untrusted))
    except Exception as error:
        raise DataUnreadable(f"{where}: cannot load the model ({type(error).__name__}: {error})") from error


def read_model(uri: str, storage_config: Storage | None) -> Any:
    location = model_uri(uri)
    return load_model(storage.retrying(lambda: storage.read_bytes(location, storage_config)), location)


def write_json(folder: str, name: str, document: Any, storage_config: Storage | None) -> str:
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    return storage.retrying(lambda: storage.write_text(storage.join(folder, name), text, storage_config))


def write_model(folder: str, model: Any, storage_config: Storage | None) -> str:
    data = dump_model(model)
    return storage.retrying(lambda: storage.write_bytes(model_uri(folder), data, storage_config))
