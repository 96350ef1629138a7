"""Reading a DriftCheck manifest for a run without a cluster.

The file is the one `kubectl apply` takes: it is checked by the same models and
rejected with the apiserver's words. Plain relative paths in it are taken
relative to the manifest's own folder, so an example runs from anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from kubedrift.errors import ConfigError
from kubedrift.models.driftcheck import DataSource, DriftCheckSpec
from kubedrift.models.resources import API_VERSION, DNS_LABEL, NOT_A_LABEL, DriftCheck
from kubedrift.models.rules import matches
from kubedrift.models.validation import invalid_message


def load_driftcheck(path: Path) -> DriftCheck:
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    checks = [d for d in documents if isinstance(d, dict) and d.get("kind") == "DriftCheck"]
    if len(checks) != 1:
        raise ConfigError(f"{path}: expected exactly one DriftCheck, found {len(checks)}")
    manifest: dict[str, Any] = checks[0]
    if manifest.get("apiVersion") != API_VERSION:
        raise ConfigError(f"{path}: apiVersion must be {API_VERSION}, not {manifest.get('apiVersion')!r}")
    name = str((manifest.get("metadata") or {}).get("name") or "")
    if not name:
        raise ConfigError(f"{path}: metadata.name: Required value")
    namespace = (manifest.get("metadata") or {}).get("namespace")
    if namespace is not None and not (isinstance(namespace, str) and matches(DNS_LABEL, namespace)):
        raise ConfigError(
            f"{path}: metadata.namespace: Invalid value: {json.dumps(namespace)}: {NOT_A_LABEL}"
        )
    try:
        check = DriftCheck.model_validate(manifest)
    except ValidationError as error:
        raise ConfigError(invalid_message("DriftCheck", name, error)) from error
    return check.model_copy(update={"spec": relative_to(check.spec, path.resolve().parent)})


def _resolved(uri: str, base: Path) -> str:
    if "://" in uri or uri.startswith("/"):
        return uri
    return str(base / uri)


S = TypeVar("S", bound=DataSource)


def relative_to(spec: DriftCheckSpec, base: Path) -> DriftCheckSpec:
    """The spec with every plain relative path made absolute against `base`."""

    def source(data: S) -> S:
        return data.model_copy(update={"uri": _resolved(data.uri, base)})

    storage = spec.storage.model_copy(update={"reports_uri": _resolved(spec.storage.reports_uri, base)})
    update: dict[str, Any] = {
        "reference": source(spec.reference),
        "current": source(spec.current),
        "storage": storage,
    }
    if spec.retrain is not None:
        update["retrain"] = spec.retrain.model_copy(
            update={"train": source(spec.retrain.train), "test": source(spec.retrain.test)}
        )
    if spec.promotion.uri is not None:
        update["promotion"] = spec.promotion.model_copy(update={"uri": _resolved(spec.promotion.uri, base)})
    return spec.model_copy(update=update)
