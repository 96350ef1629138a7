"""One pod's life on the local node: prepare, run init containers, run containers, report, clean up.

Each pod gets a thread. Container processes are started from it, so PR_SET_PDEATHSIG ties them to
a thread that outlives them (see processes.py).
"""

from __future__ import annotations

import datetime
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import envresolve, podstatus, processes, sandbox, volumes
from tests.cluster.kubeapi import JSON, ApiError, KubeApi
from tests.cluster.podstatus import ContainerRecord, Terminated

log = logging.getLogger(__name__)
# Containers run this project's code with this Python: a volume mounted over a folder that holds
# them (an emptyDir at /tmp while the project was cloned under /tmp) must not hide them.
HOST_PATHS_PODS_NEED = sandbox.outermost(
    [str(Path(__file__).resolve().parents[2]), sys.prefix, sys.base_prefix]
)

POLL_SECONDS = 0.1
# The kubelet backs off 10 s doubling to 5 min before restarting a failed container; tests need less.
RESTART_BACKOFF_SECONDS = 1.0
RESTART_BACKOFF_MAX_SECONDS = 10.0
DEFAULT_GRACE_SECONDS = 30
NO_COMMAND_MESSAGE = "kubedrift node agent: images are not pulled, so a container needs an explicit command"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class NodeContext:
    """What every pod on the node shares."""

    api: KubeApi
    pods_dir: Path
    base_env: Mapping[str, str]  # PATH, PYTHONPATH, the cluster marker, ...
    service_env: Mapping[str, str]  # KUBERNETES_SERVICE_HOST/PORT: where the apiserver is

    def pod_dir(self, namespace: str, name: str) -> Path:
        return self.pods_dir / namespace / name

    def record_run(self, entry: JSON) -> None:
        with (self.pods_dir / "runs.jsonl").open("a") as runs:
            runs.write(json.dumps(entry) + "\n")


class PodWorker(threading.Thread):
    def __init__(self, node: NodeContext, pod: JSON) -> None:
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.node, self.pod = node, pod
        self.namespace, self.pod_name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.deleting = threading.Event()  # deletion requested: stop containers within the grace period
        self.gone = threading.Event()  # the object no longer exists: nothing to report
        self.grace_seconds = float(pod["spec"].get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS))
        self.restart_policy = pod["spec"].get("restartPolicy", "Always")
        self.dir = node.pod_dir(self.namespace, self.pod_name)
        self.start_time = now_rfc3339()
        self.init = [
            ContainerRecord(c["name"], c.get("image", "")) for c in pod["spec"].get("initContainers") or []
        ]
        self.regular = [ContainerRecord(c["name"], c.get("image", "")) for c in pod["spec"]["containers"]]
        self.envs: dict[str, dict[str, str]] = {}
        self.mounts: dict[str, list[sandbox.Mount]] = {}

    def request_deletion(self, grace_seconds: float | None) -> None:
        if grace_seconds is not None:
            self.grace_seconds = min(self.grace_seconds, grace_seconds)
        self.deleting.set()

    # -- the pod's life ----------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self._prepare() and self._run_init_containers():
                self._supervise(self.regular, self._containers("containers"), self.restart_policy)
        except Exception:
            log.exception("pod %s/%s: node agent error", self.namespace, self.pod_name)
        finally:
            self._report(final=True)
            if self.deleting.is_set():
                self._force_delete()

    def _containers(self, kind: str) -> dict[str, JSON]:
        return {c["name"]: c for c in self.pod["spec"].get(kind) or []}

    def _prepare(self) -> bool:
        """Volumes and environments; retried (like a kubelet) until references exist or the pod goes."""
        while not self.deleting.is_set():
            try:
                self._prepare_once()
                return True
            except (envresolve.EnvError, volumes.VolumeError) as error:
                reason = (
                    "CreateContainerConfigError"
                    if isinstance(error, envresolve.EnvError)
                    else "ContainerCreating"
                )
                for record in self.init + self.regular:
                    record.wait(reason, str(error))
                self._report(final=False)
                self.deleting.wait(1.0)
        return False

    def _prepare_once(self) -> None:
        configmap_names, secret_names = envresolve.referenced_objects(self.pod)
        configmaps = self._fetch("configmaps", configmap_names)
        secrets = self._fetch("secrets", secret_names)
        volume_paths = volumes.materialize(
            self.pod,
            self.dir / "volumes",
            configmaps=configmaps,
            secrets=secrets,
            mint_token=self._mint_token,
        )
        configmap_data = {name: envresolve.configmap_data(obj) for name, obj in configmaps.items()}
        secret_data = {name: envresolve.secret_data(obj) for name, obj in secrets.items()}
        for container in list(self._containers("initContainers").values()) + list(
            self._containers("containers").values()
        ):
            resolved = envresolve.resolve_env(
                self.pod,
                container,
                configmaps=configmap_data,
                secrets=secret_data,
                service_env=self.node.service_env,
            )
            self.envs[container["name"]] = dict(self.node.base_env) | {"HOSTNAME": self.pod_name} | resolved
            self.mounts[container["name"]] = volumes.container_mounts(container, volume_paths)

    def _fetch(self, resource: str, names: set[str]) -> dict[str, JSON]:
        found = {}
        for name in names:
            try:
                found[name] = self.node.api.get(f"/api/v1/namespaces/{self.namespace}/{resource}/{name}")
            except ApiError as error:
                if error.status != 404:
                    raise
        return found

    def _mint_token(self, audience: str | None, expiration_seconds: int) -> str:
        """A token for the pod's own ServiceAccount, bound to the pod (TokenRequest, as the kubelet does)."""
        account = self.pod["spec"].get("serviceAccountName") or "default"
        spec: JSON = {
            "expirationSeconds": max(expiration_seconds, 600),
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": self.pod_name, "uid": self.uid},
        }
        if audience:
            spec["audiences"] = [audience]
        response = self.node.api.post(
            f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        token: str = response["status"]["token"]
        return token

    def _run_init_containers(self) -> bool:
        # Init containers run one at a time; with restartPolicy Always they restart on failure only.
        policy = "Never" if self.restart_policy == "Never" else "OnFailure"
        containers = self._containers("initContainers")
        for record in self.init:
            self._supervise([record], containers, policy)
            if not record.succeeded:
                return False
        return True

    # -- processes ---------------------------------------------------------------------------

    def _supervise(self, records: list[ContainerRecord], specs: dict[str, JSON], policy: str) -> None:
        """Run the containers until none will restart, or until deletion stops them."""
        running: dict[str, subprocess.Popen[bytes]] = {}
        restart_at: dict[str, float] = {}
        for record in records:
            running[record.name] = self._start(record, specs[record.name])
        self._report(final=False)
        while running or restart_at:
            if self.deleting.is_set():
                self._stop_all(records, running, specs)
                return
            changed = False
            for record in records:
                process = running.get(record.name)
                if process is not None and process.poll() is not None:
                    del running[record.name]
                    record.finish(self._terminated(record, specs[record.name], process))
                    changed = True
                    if record.terminated and podstatus.should_restart(policy, record.terminated.exit_code):
                        backoff = min(
                            RESTART_BACKOFF_SECONDS * 2**record.restart_count, RESTART_BACKOFF_MAX_SECONDS
                        )
                        restart_at[record.name] = time.monotonic() + backoff
                elif record.name in restart_at and time.monotonic() >= restart_at[record.name]:
                    del restart_at[record.name]
                    running[record.name] = self._start(record, specs[record.name])
                    changed = True
            if changed:
                self._report(final=False)
            time.sleep(POLL_SECONDS)

    def _start(self, record: ContainerRecord, container: JSON) -> subprocess.Popen[bytes]:
        name = record.name
        env = self.envs[name]
        command = [
            envresolve.expand(part, env)
            for part in (container.get("command") or []) + (container.get("args") or [])
        ]
        if not command:
            command = ["/bin/sh", "-c", f"echo '{NO_COMMAND_MESSAGE}' >&2; exit 127"]
        message_file = self._message_file(name)
        message_file.parent.mkdir(parents=True, exist_ok=True)
        message_file.write_bytes(b"")
        mounts = [
            *self.mounts[name],
            sandbox.Mount(message_file, container.get("terminationMessagePath") or "/dev/termination-log"),
        ]
        working_dir = container.get("workingDir") or str(self.dir / "work" / name)
        process = processes.spawn(
            sandbox.sandboxed_argv(command, mounts, working_dir, HOST_PATHS_PODS_NEED),
            env=env,
            log=self.log_file(name),
        )
        record.start(process.pid, now_rfc3339())
        return process

    def _terminated(
        self, record: ContainerRecord, container: JSON, process: subprocess.Popen[bytes]
    ) -> Terminated:
        exit_code = podstatus.exit_code_of(process.returncode)
        message = podstatus.termination_message(
            self._message_file(record.name).read_text(errors="replace"),
            self.log_file(record.name).read_text(errors="replace"),
            container.get("terminationMessagePolicy") or "File",
            exit_code,
        )
        terminated = Terminated(
            exit_code=exit_code,
            reason=podstatus.terminated_reason(exit_code),
            message=message,
            started_at=record.started_at,
            finished_at=now_rfc3339(),
            pid=process.pid,
        )
        self.node.record_run(
            {
                "namespace": self.namespace,
                "pod": self.pod_name,
                "uid": self.uid,
                "container": record.name,
                "pid": process.pid,
                "exitCode": exit_code,
                "annotations": self.pod["metadata"].get("annotations") or {},
            }
        )
        return terminated

    def _stop_all(
        self,
        records: list[ContainerRecord],
        running: dict[str, subprocess.Popen[bytes]],
        specs: dict[str, JSON],
    ) -> None:
        """SIGTERM every container, wait out the grace period, SIGKILL what is left."""
        for process in running.values():
            processes.signal_main(process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while any(p.poll() is None for p in running.values()) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        for record in records:
            leftover = running.get(record.name)
            if leftover is not None:
                processes.signal_group(leftover, signal.SIGKILL)
                leftover.wait()
                record.finish(self._terminated(record, specs[record.name], leftover))
            elif record.state == "waiting":
                record.wait("ContainerCreating")

    # -- files and API -----------------------------------------------------------------------

    def log_file(self, container: str) -> Path:
        return self.dir / f"{container}.log"

    def _message_file(self, container: str) -> Path:
        return self.dir / "termination" / container

    def _report(self, *, final: bool) -> None:
        if self.gone.is_set():
            return
        status = podstatus.pod_status(
            self.restart_policy,
            self.init,
            self.regular,
            final=final or self.deleting.is_set(),
            start_time=self.start_time,
            now=now_rfc3339(),
        )
        try:
            self.node.api.merge_patch(
                f"/api/v1/namespaces/{self.namespace}/pods/{self.pod_name}/status", {"status": status}
            )
        except ApiError as error:
            if error.status != 404:
                log.warning("pod %s/%s: status update failed: %s", self.namespace, self.pod_name, error)

    def _force_delete(self) -> None:
        """What the kubelet does once the containers are gone: delete with grace 0.

        Finalizers (e.g. batch.kubernetes.io/job-tracking) stay: their owners remove them.
        """
        if self.gone.is_set():
            return
        try:
            self.node.api.delete(
                f"/api/v1/namespaces/{self.namespace}/pods/{self.pod_name}",
                {"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}},
            )
        except ApiError as error:
            if error.status not in (404, 409):
                log.warning("pod %s/%s: force delete failed: %s", self.namespace, self.pod_name, error)
