"""Connection settings read like kubectl's, and an unreachable cluster is a clear, retryable error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubedrift.errors import ConfigError, TransientError
from kubedrift.plugin.kube import Cluster, Connection

UNREACHABLE = "https://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": UNREACHABLE, "insecure-skip-tls-verify": True}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "ml", "context": {"cluster": "c", "user": "u", "namespace": "ml"}},
                    {"name": "plain", "context": {"cluster": "c", "user": "u"}},
                ],
                "current-context": "ml",
            }
        )
    )
    return path


def test_namespace_comes_from_the_flag_then_the_context_then_default(kubeconfig: Path) -> None:
    config = str(kubeconfig)

    assert Cluster.connect(Connection(kubeconfig=config)).namespace == "ml"
    assert Cluster.connect(Connection(kubeconfig=config, namespace="prod")).namespace == "prod"
    assert Cluster.connect(Connection(kubeconfig=config, context="plain")).namespace == "default"


def test_kubeconfig_environment_variable_is_used(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))

    assert Cluster.connect(Connection()).namespace == "ml"


def test_an_unknown_context_is_a_config_error(kubeconfig: Path) -> None:
    with pytest.raises(ConfigError, match="kubeconfig"):
        Cluster.connect(Connection(kubeconfig=str(kubeconfig), context="nope"))


def test_an_unreachable_cluster_names_the_server(kubeconfig: Path) -> None:
    cluster = Cluster.connect(Connection(kubeconfig=str(kubeconfig)))
    cluster.api.api_client.configuration.retries = 0

    with pytest.raises(TransientError, match=r"cannot reach the cluster at https://127\.0\.0\.1:1"):
        cluster.list_experiments("bikes")
