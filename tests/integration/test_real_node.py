"""Issue 10: the test cluster's real node (kubelet + containerd + runc) runs real containers.

Every pod here runs a locally made image (busybox from Debian's busybox-static, imported into
containerd as the harness imports kubedrift's images) or one of kubedrift's own images
(`cluster.images`), under the restricted security context the operator uses: UID 65532, read-only
root filesystem, no capabilities. What a stand-in could not do is what is checked: the kernel
enforces the security context and the memory limit, the kubelet probes, `kubectl logs` and
`kubectl exec` go through the kubelet's API, the pod reaches the apiserver through the
`kubernetes` Service, and kubedrift's images hold what they should (and not what they should not).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import ociimage
from tests.cluster.netns import host_forwarding
from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.manifests import RESTRICTED

pytestmark = pytest.mark.cluster
JSON = dict[str, Any]
IMAGE = ociimage.BUSYBOX_IMAGE


@pytest.fixture(scope="module")
def busybox(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    archive = ociimage.write_archive(
        ociimage.busybox_image(), tmp_path_factory.mktemp("images") / "busybox.tar"
    )
    cluster.import_image(archive)
    yield IMAGE


def restricted_pod(name: str, script: str, **container: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "fsGroup": 65532},
            "containers": [
                {
                    "name": "main",
                    "image": IMAGE,
                    # Imported, never pulled (no registry is reachable): Never makes a missing
                    # import fail at once (ErrImageNeverPull) instead of after pull back-off.
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", script],
                    "securityContext": RESTRICTED,
                    **container,
                }
            ],
        },
    }


def pod_status(cluster: Cluster, namespace: str, name: str) -> JSON:
    pod = cluster.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    assert pod is not None
    status: JSON = pod.get("status", {})
    return status


def terminated(cluster: Cluster, namespace: str, name: str) -> JSON | None:
    for container in pod_status(cluster, namespace, name).get("containerStatuses", []):
        state: JSON | None = container.get("state", {}).get("terminated")
        if state:
            return state
    return None


def phase_is(cluster: Cluster, namespace: str, name: str, *phases: str) -> bool:
    return pod_status(cluster, namespace, name).get("phase") in phases


def test_the_node_is_a_real_kubelet_on_containerd(cluster: Cluster) -> None:
    node = cluster.api.get("/api/v1/nodes/kubedrift-local")
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.37.2"
    assert info["containerRuntimeVersion"] == "containerd://2.4.2"
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def test_restricted_container_runs_as_65532_on_a_read_only_root(
    cluster: Cluster, namespace: str, busybox: str
) -> None:
    ns = namespace
    script = "id -u; id -g; grep CapEff /proc/self/status; touch /probe-file 2>&1; echo touch-exit=$?"
    cluster.apply(restricted_pod("restricted", script), ns)
    wait_for(lambda: phase_is(cluster, ns, "restricted", "Succeeded", "Failed"), "the pod to finish")

    logs = cluster.kubectl("logs", "-n", ns, "restricted").stdout  # through the kubelet's API
    assert logs.splitlines()[:3] == ["65532", "65532", "CapEff:\t0000000000000000"], logs
    assert "touch: /probe-file: Read-only file system" in logs
    assert "touch-exit=1" in logs


def test_the_jobs_image_runs_as_65532_and_cannot_write_its_root(cluster: Cluster, namespace: str) -> None:
    """Issue 10, item 3: the read-only root is enforced on kubedrift's own jobs image too."""
    script = (
        "import os\n"
        "print('uid', os.getuid(), 'gid', os.getgid(), flush=True)\n"
        "open('/written-by-a-job', 'w')\n"
    )
    pod = restricted_pod("jobs-root", "", image=cluster.images["jobs"], command=["python", "-c", script])
    cluster.apply(pod, namespace)
    wait_for(lambda: phase_is(cluster, namespace, "jobs-root", "Succeeded", "Failed"), "the pod to finish")

    state = terminated(cluster, namespace, "jobs-root")
    logs = cluster.kubectl("logs", "-n", namespace, "jobs-root").stdout
    assert state is not None and state["exitCode"] == 1, logs
    assert "uid 65532 gid 65532" in logs
    assert "OSError: [Errno 30] Read-only file system: '/written-by-a-job'" in logs


# Runs each command given (a JSON list of argv lists) and prints a header with its exit code, then
# its output: one pod checks several commands, without needing a shell in the image.
RUN_EACH = """\
import json, subprocess, sys
for argv in json.loads(sys.argv[1]):
    result = subprocess.run(argv, capture_output=True, text=True)
    print(f"=== {' '.join(argv)}: exit {result.returncode}", flush=True)
    print(result.stdout, result.stderr, sep="\\n", flush=True)
"""


def run_each(*commands: list[str]) -> list[str]:
    return ["python", "-c", RUN_EACH, json.dumps(commands)]


def outcomes(logs: str) -> dict[str, tuple[int, str]]:
    """What run_each printed: command → (exit code, its output)."""
    found = {}
    for section in logs.split("=== ")[1:]:
        head, _, output = section.partition("\n")
        command, _, code = head.rpartition(": exit ")
        found[command] = (int(code), output)
    return found


def test_the_images_split_the_operator_from_the_data_libraries(cluster: Cluster, namespace: str) -> None:
    """Issue 10, item 6, on the real node: the operator image cannot import pandas or scikit-learn
    but runs the operator; the jobs image runs the job commands."""
    ns = namespace
    operator = run_each(
        ["python", "-c", "import pandas"],
        ["python", "-c", "import sklearn"],
        ["kubedrift", "operator", "--help"],
    )
    jobs = run_each(["kubedrift", "check", "--help"], ["kubedrift", "train", "--help"])
    cluster.apply(
        restricted_pod("operator-image", "", image=cluster.images["operator"], command=operator), ns
    )
    cluster.apply(restricted_pod("jobs-image", "", image=cluster.images["jobs"], command=jobs), ns)
    pods = ("operator-image", "jobs-image")
    wait_for(lambda: all(phase_is(cluster, ns, p, "Succeeded", "Failed") for p in pods), "the pods to finish")

    logs = cluster.kubectl("logs", "-n", ns, "operator-image").stdout
    ran = outcomes(logs)
    for module in ("pandas", "sklearn"):
        code, output = ran.get(f"python -c import {module}", (None, logs))
        assert code == 1 and f"ModuleNotFoundError: No module named '{module}'" in output, output
    code, output = ran.get("kubedrift operator --help", (None, logs))
    assert code == 0 and "usage: kubedrift operator" in output, output

    logs = cluster.kubectl("logs", "-n", ns, "jobs-image").stdout
    ran = outcomes(logs)
    for command in ("check", "train"):
        code, output = ran.get(f"kubedrift {command} --help", (None, logs))
        assert code == 0 and f"usage: kubedrift {command}" in output, output
    assert all(phase_is(cluster, ns, p, "Succeeded") for p in pods)


def test_kubectl_exec_runs_in_the_container(cluster: Cluster, namespace: str, busybox: str) -> None:
    ns = namespace
    cluster.apply(restricted_pod("sleeper", "sleep 600"), ns)
    wait_for(lambda: phase_is(cluster, ns, "sleeper", "Running"), "the pod to run")

    assert cluster.kubectl("exec", "-n", ns, "sleeper", "--", "id", "-u").stdout.strip() == "65532"
    write = cluster.kubectl("exec", "-n", ns, "sleeper", "--", "sh", "-c", "echo x > /etc/x", check=False)
    assert write.returncode != 0
    assert "Read-only file system" in write.stderr


def test_kubectl_port_forward_reaches_the_pod(cluster: Cluster, namespace: str, busybox: str) -> None:
    ns = namespace
    pod = restricted_pod(
        "web",
        "echo hello-from-the-pod > /tmp/index.html && exec httpd -f -p 8080 -h /tmp",
        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    pod["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    cluster.apply(pod, ns)
    wait_for(lambda: phase_is(cluster, ns, "web", "Running"), "the pod to run")

    forward = subprocess.Popen(
        [str(cluster.kubectl_path), "port-forward", "-n", ns, "pod/web", ":8080"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cluster.env(),
    )
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()  # Forwarding from 127.0.0.1:<port> -> 8080
        assert line.startswith("Forwarding from 127.0.0.1:"), line
        port = int(line.split("127.0.0.1:", 1)[1].split()[0])

        def page() -> str | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as response:
                    return str(response.read().decode())
            except OSError:
                return None

        assert wait_for(page, "the page through port-forward", timeout=30) == "hello-from-the-pod\n"
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_too_small_memory_limit_is_oom_killed(cluster: Cluster, namespace: str, busybox: str) -> None:
    ns = namespace
    # dd allocates its whole 256 MiB block before reading into it: far above the 32 MiB limit.
    hog = restricted_pod(
        "hog",
        "dd if=/dev/zero of=/dev/null bs=256M count=1",
        resources={"limits": {"memory": "32Mi", "cpu": "500m"}, "requests": {"memory": "32Mi"}},
    )
    cluster.apply(hog, ns)
    state = wait_for(lambda: terminated(cluster, ns, "hog"), "the container to be killed")
    assert state["reason"] == "OOMKilled", state
    assert state["exitCode"] == 137
    wait_for(lambda: phase_is(cluster, ns, "hog", "Failed"), "the pod to fail")


def test_readiness_probe_is_really_probed(cluster: Cluster, namespace: str, busybox: str) -> None:
    ns = namespace
    pod = restricted_pod(
        "probed",
        "sleep 600",
        readinessProbe={"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1},
        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    pod["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    cluster.apply(pod, ns)

    def ready() -> bool | None:
        statuses = pod_status(cluster, ns, "probed").get("containerStatuses", [])
        return statuses[0].get("ready") if statuses else None

    wait_for(lambda: phase_is(cluster, ns, "probed", "Running"), "the pod to run")
    wait_for(lambda: ready() is False, "the container to be reported not ready")
    cluster.kubectl("exec", "-n", ns, "probed", "--", "touch", "/tmp/ready")
    wait_for(lambda: ready() is True, "the readiness probe to pass", timeout=30)
    cluster.kubectl("exec", "-n", ns, "probed", "--", "rm", "/tmp/ready")
    wait_for(lambda: ready() is False, "the readiness probe to fail again", timeout=30)


def test_pod_reaches_the_apiserver_through_the_kubernetes_service(
    cluster: Cluster, namespace: str, busybox: str, tmp_path: Path
) -> None:
    ns = namespace
    # kubectl's in-cluster config is what every in-cluster client does: KUBERNETES_SERVICE_HOST/PORT
    # (the Service, routed by kube-proxy), the ServiceAccount token, and the cluster CA to verify
    # the apiserver's certificate. `auth whoami` shows the token was accepted.
    spec = ociimage.busybox_image()
    spec.name = "kubedrift.local/kubectl:1"
    spec.files["bin/kubectl"] = (cluster.kubectl_path.read_bytes(), 0o755)
    cluster.import_image(ociimage.write_archive(spec, tmp_path / "kubectl.tar"))
    script = (
        'echo "api=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; '
        "kubectl get --raw /version && kubectl auth whoami -o jsonpath='{.status.userInfo.username}'"
    )
    pod = restricted_pod(
        "caller",
        script,
        image=spec.name,
        env=[{"name": "HOME", "value": "/tmp"}],
        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    pod["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    cluster.apply(pod, ns)
    wait_for(lambda: phase_is(cluster, ns, "caller", "Succeeded", "Failed"), "the pod to finish")
    logs = cluster.kubectl("logs", "-n", ns, "caller").stdout
    assert "api=10.0.0.1:443" in logs, logs
    assert '"gitVersion": "v1.37.2"' in logs, logs
    assert logs.rstrip().endswith(f"system:serviceaccount:{ns}:default"), logs
    assert phase_is(cluster, ns, "caller", "Succeeded")


def test_pod_reaches_a_server_on_the_hosts_loopback(cluster: Cluster, namespace: str, busybox: str) -> None:
    # How pods will reach the S3 server the tests start on 127.0.0.1.
    ns = namespace

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello-from-the-host")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = cluster.expose_host_port(server.server_address[1])
        cluster.apply(restricted_pod("fetcher", f"wget -q -O - http://{address}/"), ns)
        wait_for(lambda: phase_is(cluster, ns, "fetcher", "Succeeded", "Failed"), "the pod to finish")
        assert cluster.kubectl("logs", "-n", ns, "fetcher").stdout == "hello-from-the-host"
    finally:
        server.shutdown()


def test_the_host_routes_nothing_the_node_sends(cluster: Cluster) -> None:
    # Pods reach the host's loopback through the forwarder (traffic *to* the host); the host end
    # of the node's link never forwards, so no pod packet goes anywhere else.
    link = cluster.local.real_node.addresses.host_link
    assert host_forwarding(link).read_text().strip() == "0"


def test_images_are_imported_from_archives(cluster: Cluster, tmp_path: Path) -> None:
    # The helper the kubedrift images use: any OCI archive (buildah's oci-archive too) imports by name.
    spec = ociimage.busybox_image()
    spec.name = "kubedrift.local/imported:test"
    output = cluster.import_image(ociimage.write_archive(spec, tmp_path / "image.tar"))
    assert "kubedrift.local/imported:test" in output
    assert "kubedrift.local/imported:test" in cluster.local.real_node.containerd.images()
