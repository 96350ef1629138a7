"""Where the cluster's binaries live: built once by gobuild/build.sh, cached by version."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = Path(__file__).parent / "gobuild" / "build.sh"


@dataclass(frozen=True)
class Binaries:
    directory: Path

    @property
    def etcd(self) -> Path:
        return self.directory / "etcd"

    @property
    def kube_apiserver(self) -> Path:
        return self.directory / "kube-apiserver"

    @property
    def kube_controller_manager(self) -> Path:
        return self.directory / "kube-controller-manager"

    @property
    def kube_scheduler(self) -> Path:
        return self.directory / "kube-scheduler"

    @property
    def kubectl(self) -> Path:
        return self.directory / "kubectl"

    @property
    def helm(self) -> Path:
        return self.directory / "helm"

    @property
    def versitygw(self) -> Path:
        """The tests' S3-compatible server (tests/fixtures/s3.py)."""
        return self.directory / "versitygw"

    @property
    def promtool(self) -> Path:
        """Prometheus' promtool, for `promtool check rules` and `promtool test rules`."""
        return self.directory / "promtool"

    @property
    def prometheus_operator_crds(self) -> Path:
        """The folder of prometheus-operator's CRD files (PrometheusRule, ServiceMonitor, ...)."""
        return self.directory / "crds"


def ensure_built(build: bool = True) -> Binaries:
    """Run the build (a no-op when the cached binaries exist) and return where they are.

    With build=False (the pytest fixtures: builds belong before pytest, in `make`), only look, and
    fail if they are not built. The build's progress goes to our stderr: a cold build takes
    minutes and should not look hung.
    """
    result = subprocess.run(
        [str(BUILD_SCRIPT), *([] if build else ["--check"])],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit code {result.returncode}; see its output above")
    return Binaries(Path(result.stdout.strip().splitlines()[-1]))
