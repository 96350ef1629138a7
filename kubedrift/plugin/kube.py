"""The plugin's one door to the Kubernetes API: read DriftChecks and Experiments, patch annotations.

Connection settings follow kubectl: `--kubeconfig`, else `$KUBECONFIG` (a list
of files, merged), else `~/.kube/config`, else the in-cluster service account;
`--context` picks the context; `--namespace`, else the context's namespace,
else `default`. kubectl hands a plugin its flags untouched, so the plugin reads
them itself.

Every object is parsed into the resource models on the way in; every API
failure leaves as one of kubedrift's errors with a message a person can act on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import ValidationError

from kubedrift.errors import ConfigError, Forbidden, KubedriftError, NotFound, TransientError
from kubedrift.models.base import Model
from kubedrift.models.resources import (
    DRIFTCHECK,
    EXPERIMENT,
    GROUP,
    LABEL_CHECK,
    LABEL_RUN,
    VERSION,
    DriftCheck,
    Experiment,
    ResourceKind,
)
from kubedrift.models.validation import first_error

if TYPE_CHECKING:
    from kubernetes.client import CustomObjectsApi

M = TypeVar("M", bound=Model)

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Connection:
    """Where to connect, as kubectl's flags say."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


@dataclass
class Cluster:
    api: CustomObjectsApi
    namespace: str

    @classmethod
    def connect(cls, connection: Connection) -> Cluster:
        try:
            from kubernetes import client, config
        except ImportError as error:  # the plugin extra is not installed
            raise ConfigError(
                "kubectl drift needs the kubernetes client: pip install 'kubedrift[plugin]'"
            ) from error

        configuration = client.Configuration()
        try:
            if _use_in_cluster(connection):
                config.load_incluster_config(client_configuration=configuration)
                namespace = connection.namespace or _in_cluster_namespace()
            else:
                config.load_kube_config(
                    config_file=connection.kubeconfig,
                    context=connection.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
                namespace = connection.namespace or _context_namespace(connection)
        except config.ConfigException as error:
            raise ConfigError(f"kubeconfig: {error}") from error
        return cls(api=client.CustomObjectsApi(client.ApiClient(configuration)), namespace=namespace)

    def list_experiments(self, check: str | None = None, run: str | None = None) -> list[Experiment]:
        selector = ",".join(
            f"{label}={value}" for label, value in ((LABEL_CHECK, check), (LABEL_RUN, run)) if value
        )
        items = self._list(EXPERIMENT, selector)
        return [_parse(Experiment, item, EXPERIMENT) for item in items]

    def list_driftchecks(self) -> list[DriftCheck]:
        return [_parse(DriftCheck, item, DRIFTCHECK) for item in self._list(DRIFTCHECK, "")]

    def get_driftcheck(self, name: str) -> DriftCheck:
        return _parse(DriftCheck, self._get(DRIFTCHECK, name), DRIFTCHECK)

    def find_driftcheck(self, name: str) -> DriftCheck | None:
        try:
            return self.get_driftcheck(name)
        except NotFound:
            return None

    def get_experiment(self, name: str) -> Experiment:
        return _parse(Experiment, self._get(EXPERIMENT, name), EXPERIMENT)

    def annotate(self, kind: ResourceKind, name: str, annotations: dict[str, str]) -> None:
        """A JSON merge patch of metadata.annotations alone: it touches no other field,
        needs no resourceVersion and fails (404) rather than creates when the object is gone."""
        body: dict[str, Any] = {"metadata": {"annotations": annotations}}
        with self._errors(kind, name, "patch"):
            self.api.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                kind.plural,
                name,
                body,
                _content_type=MERGE_PATCH,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            )

    def _list(self, kind: ResourceKind, selector: str) -> list[dict[str, Any]]:
        with self._errors(kind, None, "list"):
            result = self.api.list_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                kind.plural,
                label_selector=selector or None,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            )
        return list(cast(dict[str, Any], result).get("items", []))

    def _get(self, kind: ResourceKind, name: str) -> dict[str, Any]:
        with self._errors(kind, name, "get"):
            result = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, kind.plural, name, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        return cast(dict[str, Any], result)

    @contextmanager
    def _errors(self, kind: ResourceKind, name: str | None, verb: str) -> Iterator[None]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        what = f"{kind.singular}/{name}" if name else kind.plural
        where = f'in namespace "{self.namespace}"'
        try:
            yield
        except ApiException as error:
            message = _api_message(error)
            if error.status == 404 and name is not None:
                raise NotFound(f"{what} not found {where}") from error
            if error.status == 404:
                raise ConfigError(
                    f"the cluster does not serve {kind.plural}.{GROUP}/{VERSION}; are the kubedrift CRDs "
                    "installed (helm install kubedrift charts/kubedrift)?"
                ) from error
            if error.status in (401, 403):
                raise Forbidden(
                    f"{what} {where}: {message}", verb=verb, resource=kind.plural, namespace=self.namespace
                ) from error
            if error.status is not None and error.status >= 500:
                raise TransientError(f"{what} {where}: {message}") from error
            raise KubedriftError(f"{what} {where}: {message}") from error
        except HTTPError as error:
            host = self.api.api_client.configuration.host
            raise TransientError(f"cannot reach the cluster at {host}: {type(error).__name__}") from error


def _parse(model: type[M], item: dict[str, Any], kind: ResourceKind) -> M:
    try:
        return model.from_wire(item)
    except ValidationError as error:
        name = item.get("metadata", {}).get("name", "?")
        raise ConfigError(
            f"{kind.singular}/{name} does not have the shape this plugin knows ({first_error(error)}); "
            "are the plugin and the operator the same version?"
        ) from error


def _api_message(error: Any) -> str:
    try:
        return str(json.loads(error.body)["message"])
    except (TypeError, ValueError, KeyError):
        return f"{error.status} {error.reason}"


def _use_in_cluster(connection: Connection) -> bool:
    if connection.kubeconfig or os.environ.get("KUBECONFIG"):
        return False
    default = Path("~/.kube/config").expanduser()
    return not default.exists() and "KUBERNETES_SERVICE_HOST" in os.environ


def _in_cluster_namespace() -> str:
    try:
        return IN_CLUSTER_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"


def _context_namespace(connection: Connection) -> str:
    from kubernetes import config

    contexts, current = config.list_kube_config_contexts(config_file=connection.kubeconfig)
    if connection.context is not None:
        chosen = next((c for c in contexts if c.get("name") == connection.context), None)
    else:
        chosen = current
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else "default"
