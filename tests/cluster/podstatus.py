"""Pod status as a kubelet reports it, computed from what happened to each container. Pure.

The node agent records each container's state in a ContainerRecord; `pod_status` turns the records
into the `status` the API expects (phase, conditions, containerStatuses), so the Job controller
sees exactly what it would see from a real kubelet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
MAX_MESSAGE_BYTES = 4096  # the kubelet's cap on a termination message
FALLBACK_LOG_LINES = 80  # FallbackToLogsOnError uses this many lines of the log tail, at most 2048 bytes
FALLBACK_LOG_BYTES = 2048
NODE_IP = "127.0.0.1"
LOCAL_IMAGE_ID = "kubedrift-local://not-pulled"


@dataclass
class Terminated:
    exit_code: int
    reason: str
    message: str
    started_at: str
    finished_at: str
    pid: int = 0


@dataclass
class ContainerRecord:
    name: str
    image: str
    state: Literal["waiting", "running", "terminated"] = "waiting"
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    started_at: str = ""
    pid: int = 0
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None
    restart_count: int = 0
    history: list[Terminated] = field(default_factory=list)

    def start(self, pid: int, now: str) -> None:
        if self.terminated is not None:
            self.last_terminated = self.terminated
            self.restart_count += 1
        self.state, self.pid, self.started_at, self.terminated = "running", pid, now, None

    def finish(self, terminated: Terminated) -> None:
        self.state, self.terminated = "terminated", terminated
        self.history.append(terminated)

    def wait(self, reason: str, message: str = "") -> None:
        self.state, self.waiting_reason, self.waiting_message = "waiting", reason, message

    @property
    def succeeded(self) -> bool:
        return self.terminated is not None and self.terminated.exit_code == 0


def terminated_reason(exit_code: int) -> str:
    return "Completed" if exit_code == 0 else "Error"


def exit_code_of(returncode: int) -> int:
    """subprocess gives -N for death by signal N; the kubelet reports 128+N (137 for SIGKILL)."""
    return 128 - returncode if returncode < 0 else returncode


def termination_message(file_text: str, log_text: str, policy: str, exit_code: int) -> str:
    message = file_text.encode()[:MAX_MESSAGE_BYTES].decode(errors="ignore")
    if not message and policy == "FallbackToLogsOnError" and exit_code != 0:
        tail = "\n".join(log_text.splitlines()[-FALLBACK_LOG_LINES:])
        message = tail.encode()[-FALLBACK_LOG_BYTES:].decode(errors="ignore")
    return message


def should_restart(restart_policy: str, exit_code: int) -> bool:
    return restart_policy == "Always" or (restart_policy == "OnFailure" and exit_code != 0)


def pod_phase(
    restart_policy: str, init: list[ContainerRecord], regular: list[ContainerRecord], final: bool
) -> str:
    """The kubelet's phase rules; `final` means no container will be (re)started again."""
    for record in init:
        if record.succeeded:
            continue
        failed_for_good = record.terminated is not None and (final or restart_policy == "Never")
        return "Failed" if failed_for_good else "Pending"
    if any(record.state == "running" for record in regular):
        return "Running"
    if not all(record.state == "terminated" for record in regular):
        started = any(record.history for record in regular)
        return "Running" if started and not final else ("Failed" if final else "Pending")
    all_succeeded = all(record.succeeded for record in regular)
    if final or restart_policy == "Never":
        return "Succeeded" if all_succeeded else "Failed"
    if restart_policy == "OnFailure" and all_succeeded:
        return "Succeeded"
    return "Running"  # something will restart


def _state_json(record: ContainerRecord) -> JSON:
    if record.state == "running":
        return {"running": {"startedAt": record.started_at}}
    if record.state == "terminated" and record.terminated is not None:
        return {"terminated": _terminated_json(record.terminated)}
    waiting: JSON = {"reason": record.waiting_reason}
    if record.waiting_message:
        waiting["message"] = record.waiting_message
    return {"waiting": waiting}


def _terminated_json(terminated: Terminated) -> JSON:
    result: JSON = {
        "exitCode": terminated.exit_code,
        "reason": terminated.reason,
        "startedAt": terminated.started_at,
        "finishedAt": terminated.finished_at,
        "containerID": f"kubedrift-local://{terminated.pid}",
    }
    if terminated.message:
        result["message"] = terminated.message
    return result


def container_status(record: ContainerRecord) -> JSON:
    return {
        "name": record.name,
        "image": record.image,
        "imageID": LOCAL_IMAGE_ID,
        "containerID": f"kubedrift-local://{record.pid}" if record.pid else None,
        "state": _state_json(record),
        "lastState": {"terminated": _terminated_json(record.last_terminated)}
        if record.last_terminated
        else {},
        "ready": record.state == "running",
        "started": record.state == "running",
        "restartCount": record.restart_count,
    }


def _condition(kind: str, true: bool, now: str, reason: str = "") -> JSON:
    condition: JSON = {"type": kind, "status": "True" if true else "False", "lastTransitionTime": now}
    if reason and not true:
        condition["reason"] = reason
    return condition


def pod_status(
    restart_policy: str,
    init: list[ContainerRecord],
    regular: list[ContainerRecord],
    *,
    final: bool,
    start_time: str,
    now: str,
) -> JSON:
    phase = pod_phase(restart_policy, init, regular, final)
    initialized = all(record.succeeded for record in init)
    ready = phase == "Running" and all(record.state == "running" for record in regular)
    not_ready_reason = "PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotReady"
    return {
        "phase": phase,
        "hostIP": NODE_IP,
        "hostIPs": [{"ip": NODE_IP}],
        "podIP": NODE_IP,
        "podIPs": [{"ip": NODE_IP}],
        "startTime": start_time,
        # A merge patch replaces the whole list, so PodScheduled (set at binding) is repeated here.
        "conditions": [
            _condition("PodScheduled", True, now),
            _condition("PodReadyToStartContainers", True, now),
            _condition("Initialized", initialized, now, "ContainersNotInitialized"),
            _condition("ContainersReady", ready, now, not_ready_reason),
            _condition("Ready", ready, now, not_ready_reason),
        ],
        "initContainerStatuses": [container_status(record) for record in init] or None,
        "containerStatuses": [container_status(record) for record in regular],
    }
