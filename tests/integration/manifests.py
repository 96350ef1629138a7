"""Small manifest builders shared by the cluster tests.

Containers run the busybox image the node imports at start (no registry is reachable, so
nothing is ever pulled) with the restricted security context every test namespace enforces.
"""

from __future__ import annotations

from typing import Any

from tests.cluster.ociimage import BUSYBOX_IMAGE

JSON = dict[str, Any]
IMAGE = BUSYBOX_IMAGE
RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def container(name: str, script: str, **extra: Any) -> JSON:
    return {
        "name": name,
        "image": IMAGE,
        # A test-made image in no registry: Never makes a missing import fail at once
        # (ErrImageNeverPull) instead of after pull attempts and back-off.
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", script],
        "securityContext": RESTRICTED,
        **extra,
    }


def pod(name: str, script: str, **spec: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [container("main", script)], **spec},
    }


def job(name: str, script: str, *, owner: JSON | None = None, **spec: Any) -> JSON:
    metadata: JSON = {"name": name}
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [container("work", script)]}},
            **spec,
        },
    }


def driftcheck(name: str, schedule: str = "0 * * * *") -> JSON:
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "reference": {"uri": "s3://bikes/reference.parquet"},
            "current": {"uri": "s3://bikes/current.parquet"},
            "storage": {"reportsUri": "s3://bikes/reports"},
        },
    }


def owner_reference(obj: JSON) -> JSON:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def condition(obj: JSON | None, kind: str) -> JSON | None:
    for entry in ((obj or {}).get("status") or {}).get("conditions") or []:
        if entry["type"] == kind and entry["status"] == "True":
            return dict(entry)
    return None
