"""Pod phase and container status as the node agent reports them, checked against kubelet rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.podstatus import (
    ContainerRecord,
    Terminated,
    exit_code_of,
    pod_phase,
    pod_status,
    should_restart,
    termination_message,
)
from tests.cluster.sandbox import Mount, hidden_by, outermost, prelude, sandboxed_argv


def _done(name: str, exit_code: int) -> ContainerRecord:
    record = ContainerRecord(name, "img")
    record.start(10, "t0")
    record.finish(Terminated(exit_code, "Completed" if exit_code == 0 else "Error", "", "t0", "t1"))
    return record


def _running(name: str) -> ContainerRecord:
    record = ContainerRecord(name, "img")
    record.start(11, "t0")
    return record


@pytest.mark.parametrize(
    ("policy", "init", "regular", "final", "phase"),
    [
        ("Never", [], [_done("a", 0)], False, "Succeeded"),
        ("Never", [], [_done("a", 0), _done("b", 1)], False, "Failed"),
        ("Never", [], [_done("a", 0), _running("b")], False, "Running"),
        ("OnFailure", [], [_done("a", 1)], False, "Running"),  # it will restart
        ("OnFailure", [], [_done("a", 1)], True, "Failed"),  # deleted: it will not
        ("OnFailure", [], [_done("a", 0)], False, "Succeeded"),
        ("Always", [], [_done("a", 0)], False, "Running"),
        ("Never", [_done("init", 1)], [ContainerRecord("a", "img")], False, "Failed"),
        ("OnFailure", [_done("init", 1)], [ContainerRecord("a", "img")], False, "Pending"),
        ("Never", [ContainerRecord("init", "img")], [ContainerRecord("a", "img")], False, "Pending"),
    ],
)
def test_pod_phase(
    policy: str, init: list[ContainerRecord], regular: list[ContainerRecord], final: bool, phase: str
) -> None:
    assert pod_phase(policy, init, regular, final) == phase


def test_exit_codes_of_signals_are_reported_as_128_plus_the_signal() -> None:
    assert (exit_code_of(-9), exit_code_of(-15), exit_code_of(3)) == (137, 143, 3)


def test_restart_policy() -> None:
    assert should_restart("Always", 0) and should_restart("OnFailure", 1)
    assert not should_restart("OnFailure", 0) and not should_restart("Never", 1)


def test_termination_message_falls_back_to_the_log_tail_only_on_error() -> None:
    assert termination_message("msg", "log", "FallbackToLogsOnError", 1) == "msg"
    assert termination_message("", "a\nb\n", "FallbackToLogsOnError", 1) == "a\nb"
    assert termination_message("", "a\nb\n", "FallbackToLogsOnError", 0) == ""
    assert termination_message("", "a\nb\n", "File", 1) == ""
    assert len(termination_message("x" * 10_000, "", "File", 0)) == 4096


def test_status_of_a_restarted_container_keeps_its_last_state() -> None:
    record = _done("a", 1)
    record.start(12, "t2")
    status = pod_status("OnFailure", [], [record], final=False, start_time="t0", now="t3")
    container = status["containerStatuses"][0]
    assert (status["phase"], container["restartCount"], container["ready"]) == ("Running", 1, True)
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert {c["type"] for c in status["conditions"]} >= {
        "PodScheduled",
        "Initialized",
        "Ready",
        "ContainersReady",
    }


def test_sandbox_prelude_mounts_parents_before_children(tmp_path: object) -> None:
    from pathlib import Path

    base = Path(str(tmp_path))
    (base / "a").mkdir()
    (base / "b").mkdir()
    script = prelude([Mount(base / "b", "/data/sub"), Mount(base / "a", "/data", read_only=True)], "/work")
    assert script.index("/data/sub") > script.index(f"mount --bind {base / 'a'} /data")
    assert "mount -o remount,bind,ro /data" in script


def test_a_volume_over_the_projects_folder_leaves_the_project_visible(tmp_path: Path) -> None:
    # An emptyDir at /tmp must not hide a project (and its Python) cloned under /tmp.
    mounts = [Mount(tmp_path / "empty", "/tmp"), Mount(tmp_path / "token", "/var/run/secrets")]
    keep = outermost(["/tmp/clone", "/tmp/clone/.venv", "/usr"])
    assert keep == ["/tmp/clone", "/usr"]
    assert hidden_by(mounts, keep) == ["/tmp/clone"]
    script = prelude(mounts, "/work", keep)
    lines = script.splitlines()
    stash = lines.index("mount --bind /tmp/clone /mnt/0")
    restore = lines.index("mount --bind /mnt/0 /tmp/clone")
    over_tmp = next(i for i, line in enumerate(lines) if line.endswith(" /tmp") and "--bind" in line)
    assert stash < over_tmp < restore


def test_the_project_stays_visible_inside_a_real_namespace(tmp_path: Path) -> None:
    import subprocess

    project = tmp_path / "clone"
    project.mkdir()
    (project / "marker").write_text("here")
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = sandboxed_argv(
        ["cat", str(project / "marker")], [Mount(empty, str(tmp_path))], "/", [str(project)]
    )
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "here"
