"""The node agent's env resolution, checked against the kubelet's documented behaviour."""

from __future__ import annotations

import pytest

from tests.cluster.envresolve import EnvError, expand, field_value, referenced_objects, resolve_env

POD = {
    "metadata": {
        "name": "train-2-abc",
        "namespace": "ml",
        "uid": "u-1",
        "labels": {"app": "kubedrift"},
        "annotations": {"batch.kubernetes.io/job-completion-index": "2"},
    },
    "spec": {"nodeName": "kubedrift-local", "serviceAccountName": "trainer"},
    "status": {"podIP": "127.0.0.1"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)-x", "1-x"),
        ("$$(A)", "$(A)"),  # escaped
        ("$(MISSING)", "$(MISSING)"),  # unknown references stay as written
        ("$A $", "$A $"),  # only $(...) is special
        ("$(A", "$(A"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"A": "1"}) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metadata.annotations['batch.kubernetes.io/job-completion-index']", "2"),
        ("metadata.labels['app']", "kubedrift"),
        ("metadata.name", "train-2-abc"),
        ("metadata.namespace", "ml"),
        ("metadata.uid", "u-1"),
        ("spec.nodeName", "kubedrift-local"),
        ("status.podIP", "127.0.0.1"),
    ],
)
def test_field_value(path: str, expected: str) -> None:
    assert field_value(POD, path) == expected


def test_resolve_env_in_kubelet_order() -> None:
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}, {"secretRef": {"name": "creds"}}],
        "env": [
            {
                "name": "INDEX",
                "valueFrom": {
                    "fieldRef": {
                        "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                    }
                },
            },
            {"name": "URL", "value": "https://$(KUBERNETES_SERVICE_HOST)/$(INDEX)/$(LATER)"},
            {"name": "LATER", "value": "x"},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
            {
                "name": "GONE",
                "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}},
            },
        ],
    }
    env = resolve_env(
        POD,
        container,
        configmaps={"cfg": {"mode": "fast"}},
        secrets={"creds": {"TOKEN": "t"}},
        service_env={"KUBERNETES_SERVICE_HOST": "127.0.0.1"},
    )
    assert env == {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "CFG_mode": "fast",
        "TOKEN": "t",
        "INDEX": "2",
        "URL": "https://127.0.0.1/2/$(LATER)",
        "LATER": "x",
        "MODE": "fast",
    }


def test_a_missing_required_reference_stops_the_container() -> None:
    container = {"env": [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "missing"}}}]}
    with pytest.raises(EnvError, match="couldn't find key missing in secret creds"):
        resolve_env(POD, container, configmaps={}, secrets={"creds": {}}, service_env={})


def test_referenced_objects() -> None:
    pod = {
        "spec": {
            "containers": [
                {
                    "envFrom": [{"secretRef": {"name": "s1"}}],
                    "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}],
                }
            ],
            "volumes": [
                {"name": "v", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}},
                {"name": "w", "secret": {"secretName": "s2"}},
            ],
        }
    }
    assert referenced_objects(pod) == ({"c1", "kube-root-ca.crt"}, {"s1", "s2"})
