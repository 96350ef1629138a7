"""Child processes that cannot outlive the harness.

Every process the harness starts (control plane and pods) gets its own process group, so stopping
it also stops whatever it spawned, and carries CLUSTER_MARKER in its environment, so a leftover
can be found by scanning /proc. PR_SET_PDEATHSIG kills it if the harness itself dies without
cleaning up (kill -9, crashed interpreter).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

# Environment variable naming the cluster's state directory; set on every child process.
CLUSTER_MARKER = "KUBEDRIFT_TEST_CLUSTER"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child between fork and exec.

    Note: the signal fires when the *thread* that forked exits; callers start long-lived processes
    from threads that outlive them (the main thread, or the pod's own worker thread).
    """
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start argv in a new session (its own process group), stdout and stderr appended to log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    output: IO[bytes] = log.open("ab")
    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only calls prctl
        )
    finally:
        output.close()


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def signal_main(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal what a container's runtime would: the container's PID 1 (the child of our unshare).

    Not the whole group: unshare dies on SIGTERM and would take the namespace down at once,
    skipping the grace period. Falls back to the process itself when it has no child.
    """
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    except OSError:
        children = []
    for pid in [int(child) for child in children] or [process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def stop(process: subprocess.Popen[bytes], grace_seconds: float) -> int:
    """SIGTERM the process group, then SIGKILL it after grace_seconds; returns the exit status."""
    if process.poll() is None:
        signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_seconds)
    # The leader may have exited while children it spawned are still in the group.
    signal_group(process, signal.SIGKILL)
    return process.wait()


def processes_marked(marker_value: str) -> list[int]:
    """PIDs of live processes whose environment carries CLUSTER_MARKER=marker_value."""
    needle = f"{CLUSTER_MARKER}={marker_value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_until_gone(marker_value: str, timeout: float) -> list[int]:
    """Wait for marked processes to exit; returns those still alive after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        alive = processes_marked(marker_value)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)
