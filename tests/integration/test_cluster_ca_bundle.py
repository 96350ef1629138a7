"""storage.caBundle at apply time: the CRD's CEL rule wants exactly one source, worded as the
troubleshooting page says; one source is accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.cluster import Cluster
from tests.integration.manifests import driftcheck

pytestmark = pytest.mark.cluster
REF = {"name": "s3-ca", "key": "ca.crt"}


def _apply(cluster: Cluster, namespace: str, name: str, ca_bundle: dict[str, Any]) -> Any:
    manifest = driftcheck(name)
    manifest["spec"]["storage"]["caBundle"] = ca_bundle
    return cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)


@pytest.mark.parametrize("ca_bundle", [{}, {"configMapRef": REF, "secretRef": REF}])
def test_a_bundle_with_none_or_both_sources_is_refused(
    cluster: Cluster, crds: str, namespace: str, ca_bundle: dict[str, Any]
) -> None:
    result = _apply(cluster, namespace, "bad-ca", ca_bundle)
    assert result.returncode != 0
    assert (
        "spec.storage.caBundle: Invalid value: caBundle must name exactly one of configMapRef or secretRef"
    ) in result.stderr, result.stderr


def test_a_bundle_with_one_source_is_accepted(cluster: Cluster, crds: str, namespace: str) -> None:
    result = _apply(cluster, namespace, "good-ca", {"secretRef": REF})
    assert result.returncode == 0, result.stderr
