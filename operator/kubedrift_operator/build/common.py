"""What every child shares: labels, the owner reference, the job pod template."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubedrift.errors import PERMANENT_EXIT_CODES
from kubedrift.models.driftcheck import Storage
from kubedrift.models.jobconfig import ENV_CONFIG
from kubedrift.models.resources import GROUP, LABEL_CHECK, LABEL_RUN, DriftCheck
from kubedrift_operator.settings import Settings

JSON = dict[str, Any]

LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "kubedrift-operator"
# The hash of the manifest the operator last applied: a child whose annotation
# differs from the desired manifest's hash is re-applied, others are left alone.
ANNOTATION_HASH = f"{GROUP}/manifest-hash"

CONFIG_DIR = "/etc/kubedrift"
CONFIG_FILE = "config.json"
# The only writable path of a job pod: an emptyDir of its own (the root is read-only).
TMP_DIR = "/tmp"  # noqa: S108
# storage.caBundle, mounted read-only; AWS_CA_BUNDLE names the file (botocore reads it).
CA_BUNDLE_DIR = "/etc/kubedrift-ca"
CA_BUNDLE_FILE = "ca-bundle.pem"

COMPONENT_CHECK = "check"
COMPONENT_TRAIN = "train"
COMPONENT_PROMOTE = "promote"


def labels(check: str, component: str, run: str | None = None) -> dict[str, str]:
    out = {
        "app.kubernetes.io/name": "kubedrift",
        LABEL_COMPONENT: component,
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_CHECK: check,
    }
    if run:
        out[LABEL_RUN] = run
    return out


def owner_reference(owner: DriftCheck) -> JSON:
    return {
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def metadata(owner: DriftCheck, name: str, child_labels: dict[str, str]) -> JSON:
    return {
        "name": name,
        "namespace": owner.metadata.namespace,
        "labels": child_labels,
        "ownerReferences": [owner_reference(owner)],
    }


def manifest_hash(manifest: JSON) -> str:
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_hash(manifest: JSON) -> JSON:
    """The manifest with its own hash as an annotation (computed without it)."""
    meta = manifest["metadata"]
    annotations = {**meta.get("annotations", {}), ANNOTATION_HASH: manifest_hash(manifest)}
    return {**manifest, "metadata": {**meta, "annotations": annotations}}


def credential_env(storage: Storage) -> list[JSON]:
    """Storage credentials as env from the Secret: the operator never sees their values."""
    ref = storage.secret_ref
    if ref is None:
        return []
    return [
        {
            "name": "AWS_ACCESS_KEY_ID",
            "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.access_key_id_key}},
        },
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.secret_access_key_key}},
        },
    ]


def ca_bundle_volume(storage: Storage) -> JSON | None:
    """storage.caBundle as a volume of its one key. The kubelet reads the ConfigMap or Secret; the
    operator only names it, so it needs no right to read either."""
    bundle = storage.ca_bundle
    if bundle is None:
        return None
    if bundle.config_map_ref is not None:
        ref, kind = bundle.config_map_ref, "configMap"
        source: JSON = {"name": ref.name}
    else:
        assert bundle.secret_ref is not None  # the model holds exactly one
        ref, kind = bundle.secret_ref, "secret"
        source = {"secretName": ref.name}
    return {"name": "ca-bundle", kind: {**source, "items": [{"key": ref.key, "path": CA_BUNDLE_FILE}]}}


def pod_failure_policy(container: str, action: str) -> JSON:
    """Permanent errors end the index (or job) at once; disruptions are not the job's fault."""
    return {
        "rules": [
            {
                "action": action,
                "onExitCodes": {
                    "containerName": container,
                    "operator": "In",
                    "values": list(PERMANENT_EXIT_CODES),
                },
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]
    }


def pod_template(
    settings: Settings,
    *,
    pod_labels: dict[str, str],
    container: str,
    args: list[str],
    config_map: str,
    storage: Storage,
    resources: JSON,
    extra_env: list[JSON] | None = None,
) -> JSON:
    """A hardened job pod: restricted security context, read-only root with /tmp as emptyDir."""
    env = [
        {"name": ENV_CONFIG, "value": f"{CONFIG_DIR}/{CONFIG_FILE}"},
        {"name": "HOME", "value": TMP_DIR},
        {"name": "TMPDIR", "value": TMP_DIR},
        *credential_env(storage),
        *(extra_env or []),
    ]
    mounts = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": TMP_DIR},
    ]
    volumes = [
        {"name": "config", "configMap": {"name": config_map}},
        {"name": "tmp", "emptyDir": {}},
    ]
    if (ca_volume := ca_bundle_volume(storage)) is not None:
        env.append({"name": "AWS_CA_BUNDLE", "value": f"{CA_BUNDLE_DIR}/{CA_BUNDLE_FILE}"})
        mounts.append({"name": "ca-bundle", "mountPath": CA_BUNDLE_DIR, "readOnly": True})
        volumes.append(ca_volume)
    return {
        "metadata": {"labels": pod_labels},
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": settings.job_service_account,
            # Jobs never call the Kubernetes API; no token is mounted at all.
            "automountServiceAccountToken": False,
            "securityContext": settings.pod_security_context,
            "containers": [
                {
                    "name": container,
                    "image": settings.job_image,
                    "imagePullPolicy": settings.job_image_pull_policy,
                    "command": ["python", "-m", "kubedrift"],
                    "args": args,
                    "env": env,
                    "resources": resources,
                    "securityContext": settings.container_security_context,
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    "volumeMounts": mounts,
                }
            ],
            "volumes": volumes,
        },
    }


def job_service_account(settings: Settings, namespace: str) -> JSON:
    """The job pods' ServiceAccount: no bindings, no token; shared by all DriftChecks of a namespace."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": settings.job_service_account,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "kubedrift", LABEL_MANAGED_BY: MANAGED_BY},
        },
        "automountServiceAccountToken": False,
    }
