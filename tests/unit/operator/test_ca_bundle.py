"""storage.caBundle: one key of a ConfigMap or Secret, mounted read-only into every job pod and
named by AWS_CA_BUNDLE; no caBundle, no mount and no AWS_CA_BUNDLE."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from kubedrift.models.driftcheck import CA_BUNDLE_RULE, DriftCheckSpec, Storage
from kubedrift.models.resources import DriftCheck, ObjectMeta
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build import promotion as build_promotion
from kubedrift_operator.build import run as build_run
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f

JSON = dict[str, Any]


def _check(ca_bundle: JSON | None) -> DriftCheck:
    body = f.driftcheck()
    if ca_bundle is not None:
        body["spec"]["storage"]["caBundle"] = ca_bundle
    return DriftCheck(
        metadata=ObjectMeta.model_validate(body["metadata"]), spec=DriftCheckSpec.model_validate(body["spec"])
    )


def _pods(check: DriftCheck) -> dict[str, JSON]:
    settings = Settings(job_image="img:1")
    return {
        "check": build_check.cron_job(check, settings)["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "check-now": build_check.check_now_job(check, settings, "1", f.NOW)["spec"]["template"]["spec"],
        "train": build_run.run_job(check, "r1", settings)["spec"]["template"]["spec"],
        "promote": build_promotion.promotion_job(check, settings, "p", "s3://b/m", "s3://b/prod")["spec"][
            "template"
        ]["spec"],
    }


@pytest.mark.parametrize(
    ("ca_bundle", "volume"),
    [
        (
            {"configMapRef": {"name": "s3-ca", "key": "ca.crt"}},
            {
                "name": "ca-bundle",
                "configMap": {"name": "s3-ca", "items": [{"key": "ca.crt", "path": "ca-bundle.pem"}]},
            },
        ),
        (
            {"secretRef": {"name": "s3-tls", "key": "ca.pem"}},
            {
                "name": "ca-bundle",
                "secret": {"secretName": "s3-tls", "items": [{"key": "ca.pem", "path": "ca-bundle.pem"}]},
            },
        ),
    ],
)
def test_every_job_pod_mounts_the_bundle_read_only_and_names_it_aws_ca_bundle(
    ca_bundle: JSON, volume: JSON
) -> None:
    for component, pod in _pods(_check(ca_bundle)).items():
        container = pod["containers"][0]
        assert volume in pod["volumes"], component
        assert {"name": "ca-bundle", "mountPath": "/etc/kubedrift-ca", "readOnly": True} in container[
            "volumeMounts"
        ]
        assert {"name": "AWS_CA_BUNDLE", "value": "/etc/kubedrift-ca/ca-bundle.pem"} in container["env"]


def test_without_a_bundle_no_pod_gets_a_mount_or_aws_ca_bundle() -> None:
    for component, pod in _pods(_check(None)).items():
        container = pod["containers"][0]
        assert [v["name"] for v in pod["volumes"]] == ["config", "tmp"], component
        assert all(e["name"] != "AWS_CA_BUNDLE" for e in container["env"]), component


def test_the_bundle_reaches_the_job_config_as_names_only() -> None:
    config = build_check.config_map(_check({"configMapRef": {"name": "s3-ca", "key": "ca.crt"}}))
    storage = json.loads(config["data"]["config.json"])["storage"]
    assert storage["caBundle"] == {"configMapRef": {"name": "s3-ca", "key": "ca.crt"}}


@pytest.mark.parametrize(
    "ca_bundle",
    [{}, {"configMapRef": {"name": "a", "key": "k"}, "secretRef": {"name": "a", "key": "k"}}],
)
def test_a_bundle_names_exactly_one_source(ca_bundle: JSON) -> None:
    with pytest.raises(ValidationError, match=CA_BUNDLE_RULE.message):
        Storage.model_validate({"reportsUri": "s3://bikes/r", "caBundle": ca_bundle})


def test_a_key_is_a_valid_configmap_key() -> None:
    with pytest.raises(ValidationError, match="key"):
        Storage.model_validate(
            {"reportsUri": "s3://bikes/r", "caBundle": {"secretRef": {"name": "a", "key": "a/b"}}}
        )
