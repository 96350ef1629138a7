"""What the operator knows about the cluster: the objects it watches, kept current by
kopf's watch events, indexed by the DriftCheck they belong to.

Reading from here instead of the API keeps a reconcile to the writes it must make.
Staleness is safe by construction: creates use deterministic names (a stale "missing"
becomes AlreadyExists), status writes carry the resourceVersion they were computed
from (a stale decision becomes Conflict), and writes update the cache at once.

Pods are stored slimmed to what the operator reads (labels, phase, termination
records), which keeps memory flat with many pods.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kubedrift.models.resources import LABEL_CHECK
from kubedrift_operator.reconcile.draft import Children

JSON = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)
CHILD_KINDS = ("ConfigMap", "CronJob", "Job", "Pod", "Experiment")


def _rv(obj: JSON) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion", 0))
    except (TypeError, ValueError):
        return 0


def _memory_limit_only(container: JSON) -> JSON:
    memory = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return {
        "name": container.get("name"),
        **({"resources": {"limits": {"memory": memory}}} if memory else {}),
    }


def slim(kind: str, obj: JSON) -> JSON:
    meta = obj.get("metadata", {})
    keep_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "labels", "annotations", "resourceVersion")
        if k in meta
    }
    if kind == "Pod":
        status = obj.get("status", {})
        return {
            "kind": kind,
            "metadata": keep_meta,
            # Of the spec, only each container's memory limit: an OOM kill's message names it.
            "spec": {
                "containers": [_memory_limit_only(c) for c in obj.get("spec", {}).get("containers") or []]
            },
            "status": {k: status[k] for k in ("phase", "startTime", "containerStatuses") if k in status},
        }
    if kind in ("Job", "CronJob", "ConfigMap"):
        return {"kind": kind, "metadata": keep_meta, "status": obj.get("status", {})}
    return {**obj, "kind": kind}


class Cache:
    def __init__(self) -> None:
        self.driftchecks: dict[Key, JSON] = {}
        self._children: dict[str, dict[Key, dict[str, JSON]]] = {k: defaultdict(dict) for k in CHILD_KINDS}
        self.service_accounts: set[Key] = set()

    # --- updates -------------------------------------------------------------------
    def put(self, kind: str, obj: JSON) -> Key | None:
        """Store an object; returns the DriftCheck it belongs to. Older versions are ignored."""
        meta = obj.get("metadata", {})
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        if kind == "DriftCheck":
            old = self.driftchecks.get((namespace, name))
            if old is None or _rv(obj) >= _rv(old) or old["metadata"].get("uid") != meta.get("uid"):
                self.driftchecks[(namespace, name)] = {**obj, "kind": kind}
            return (namespace, name)
        if kind == "ServiceAccount":
            self.service_accounts.add((namespace, name))
            return None
        check = (meta.get("labels") or {}).get(LABEL_CHECK)
        if not check or kind not in self._children:
            return None
        bucket = self._children[kind][(namespace, check)]
        old = bucket.get(name)
        if old is None or _rv(obj) >= _rv(old):
            bucket[name] = slim(kind, obj)
        return (namespace, check)

    def delete(self, kind: str, obj: JSON) -> Key | None:
        meta = obj.get("metadata", {})
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        if kind == "DriftCheck":
            self.driftchecks.pop((namespace, name), None)
            for buckets in self._children.values():
                buckets.pop((namespace, name), None)
            return None
        if kind == "ServiceAccount":
            self.service_accounts.discard((namespace, name))
            return None
        check = (meta.get("labels") or {}).get(LABEL_CHECK)
        if not check or kind not in self._children:
            return None
        bucket = self._children[kind].get((namespace, check))
        if bucket is not None:
            bucket.pop(name, None)
            if not bucket:
                del self._children[kind][(namespace, check)]
        return (namespace, check)

    # --- reads ---------------------------------------------------------------------
    def children(self, key: Key, job_service_account: str) -> Children:
        def of(kind: str) -> dict[str, JSON]:
            return dict(self._children[kind].get(key, {}))

        return Children(
            config_maps=of("ConfigMap"),
            cron_jobs=of("CronJob"),
            jobs=of("Job"),
            pods=list(of("Pod").values()),
            experiments=of("Experiment"),
            service_account=(key[0], job_service_account) in self.service_accounts,
        )

    def sizes(self) -> dict[str, int]:
        out = {"DriftCheck": len(self.driftchecks)}
        for kind, buckets in self._children.items():
            out[kind] = sum(len(b) for b in buckets.values())
        return out
