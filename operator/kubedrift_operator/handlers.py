"""The kopf layer: login, startup/cleanup, and watch events that feed the cache and queue.

Only kopf *event* handlers are used, never its change-detecting handlers
(on.create/update/resume/delete): those keep a diff base and handler progress in
annotations (or status) of the watched object and add finalizers, which GitOps tools
would see as drift. Our reconcile is level-based anyway: each event only says "look at
this DriftCheck again". See operator/README.md for the trade-off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from kubedrift.models.resources import GROUP, LABEL_CHECK, VERSION
from kubedrift_operator import api as api_module
from kubedrift_operator import metrics
from kubedrift_operator.cache import Cache
from kubedrift_operator.controller import Controller
from kubedrift_operator.settings import Settings
from kubedrift_operator.workqueue import WorkQueue

logger = logging.getLogger("kubedrift.operator")


class Runtime:
    """The operator's singletons, made at startup."""

    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    settings: Settings
    cache: Cache
    queue: WorkQueue
    api: api_module.Api
    resync: asyncio.Task[None] | None = None


RT = Runtime()


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    creds = api_module.credentials()
    token = creds.token
    if creds.token_path:
        with open(creds.token_path, encoding="utf-8") as f:
            token = f.read().strip()
    return kopf.ConnectionInfo(
        server=creds.server,
        ca_path=creds.ca_path,
        ca_data=creds.ca_data,
        insecure=creds.insecure or None,
        token=token,
        certificate_path=creds.certificate_path,
        private_key_path=creds.private_key_path,
        default_namespace=creds.default_namespace,
    )


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    # kopf itself writes nothing to the objects: no peering objects (one replica,
    # Recreate), no Events for handler outcomes (we post our own, with reasons).
    settings.peering.standalone = True
    settings.posting.enabled = False
    # Watches are re-established every ~5 minutes: a silently dead connection (a
    # restarted apiserver, a dropped NAT entry) then costs at most that, and the cache is
    # resynced by the reconnect's fresh listing.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    RT.settings = Settings.from_env()
    RT.cache = Cache()
    RT.api = api_module.Api(api_module.credentials(), connections=max(8, RT.settings.workers * 2))
    controller = Controller(RT.api, RT.cache, RT.settings)
    RT.queue = WorkQueue(controller.reconcile, RT.settings.workers)
    await prime()
    RT.queue.start()
    for key in list(RT.cache.driftchecks):
        RT.queue.add(key)
    RT.resync = asyncio.create_task(resync_forever())
    metrics.DRIFTCHECKS.cache = RT.cache
    metrics.serve(RT.settings.metrics_port)
    logger.info("kubedrift operator started", extra={"driftchecks": len(RT.cache.driftchecks)})


async def prime() -> None:
    """List everything before the first reconcile, so it starts from a complete picture."""
    scopes: tuple[str | None, ...] = RT.namespaces or (None,)
    for namespace in scopes:
        for item in await RT.api.list("DriftCheck", namespace=namespace):
            RT.cache.put("DriftCheck", item)
        for kind in ("ConfigMap", "CronJob", "Job", "Pod", "Experiment"):
            for item in await RT.api.list(kind, namespace=namespace, label_selector=LABEL_CHECK):
                RT.cache.put(kind, item)


async def resync_forever() -> None:
    while True:
        await asyncio.sleep(RT.settings.resync_seconds)
        for key in list(RT.cache.driftchecks):
            RT.queue.add(key)
        metrics.QUEUE_DEPTH.set(RT.queue.depth())
        for kind, size in RT.cache.sizes().items():
            metrics.WATCHED.labels(kind=kind).set(size)


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    if RT.resync is not None:
        RT.resync.cancel()
    await RT.queue.stop()
    await RT.api.close()


@kopf.on.probe(id="queue")
def queue_depth(**_: Any) -> int:
    return RT.queue.depth()


def _feed(kind: str, event: kopf.RawEvent) -> None:
    obj: dict[str, Any] = dict(event["object"])
    if event.get("type") == "DELETED":
        key = RT.cache.delete(kind, obj)
    else:
        key = RT.cache.put(kind, {**obj, "kind": kind})
    if key is not None:
        RT.queue.add(key)


@kopf.on.event(GROUP, VERSION, "driftchecks")
def driftcheck_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("DriftCheck", event)


@kopf.on.event(GROUP, VERSION, "experiments", labels={LABEL_CHECK: kopf.PRESENT})
def experiment_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("Experiment", event)


@kopf.on.event("batch", "v1", "jobs", labels={LABEL_CHECK: kopf.PRESENT})
def job_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("Job", event)


@kopf.on.event("batch", "v1", "cronjobs", labels={LABEL_CHECK: kopf.PRESENT})
def cronjob_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("CronJob", event)


@kopf.on.event("", "v1", "configmaps", labels={LABEL_CHECK: kopf.PRESENT})
def configmap_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("ConfigMap", event)


@kopf.on.event("", "v1", "pods", labels={LABEL_CHECK: kopf.PRESENT})
def pod_event(event: kopf.RawEvent, **_: Any) -> None:
    _feed("Pod", event)
