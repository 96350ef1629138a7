"""Storage faults on the cluster: what the DriftCheck says, and what the Job does about them.

A wrong secret, an unknown access key, a key without rights on the bucket, each in its own
Secret: each check pod exits with its own code (7, 6, 8) once (podFailurePolicy FailJob, no
retry storm), each DriftCheck is Stalled/Ready=False with its reason (SignatureDoesNotMatch,
InvalidAccessKeyId, AccessDenied) naming the bucket; each Secret fixed, the next check succeeds
with nothing else done. Throttling that
never stops: the check pods exit 75 and the Job retries them until its backoffLimit. Every
status, Event, log and termination message of these runs is scanned for the credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cluster import Cluster
from tests.fixtures.faultproxy import Fault, FaultProxy, fault_proxy_for
from tests.fixtures.leaks import CredentialScan
from tests.fixtures.s3 import Account, S3Server, upload_file
from tests.integration.operator.conftest import (
    BIKES,
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    create_s3_access,
    dump,
    free_port,
    termination_messages,
    wait_status,
)

pytestmark = pytest.mark.cluster
JSON = dict[str, Any]


def _check(name: str, data: BikeData) -> JSON:
    check = bike_check(name, data, grid={"n_estimators": [5]}, policy="Manual")
    check["spec"]["retrain"]["trigger"] = "Manual"  # the check alone is under test
    return check


def _check_runs(kube: Kube) -> list[JSON]:
    return [r for r in kube.pod_runs() if r["container"] == "check"]


def _pods_termination_messages(kube: Kube) -> list[str]:
    return [m for pod in kube.list("/api/v1/namespaces/{ns}/pods") for m in termination_messages(pod)]


def _outputs(
    cluster: Cluster, kube: Kube, operator: OperatorProcess, names: list[str], stage: str
) -> dict[str, str]:
    pods = [p["metadata"]["name"] for p in kube.list("/api/v1/namespaces/{ns}/pods")]
    texts = {
        **{
            f"{stage}: the DriftCheck {name}": dump(kube.driftcheck(name)) + str(kube.driftcheck(name))
            for name in names
        },
        f"{stage}: the Events": str(kube.list("/api/v1/namespaces/{ns}/events")),
        f"{stage}: the operator's log": operator.logs(),
        **{f"{stage}: termination message {i}": m for i, m in enumerate(_pods_termination_messages(kube))},
    }
    for pod in pods:
        texts[f"{stage}: pod {pod}'s output"] = cluster.pod_logs(kube.namespace, pod)
    return texts


# Each credential fault with the exit code and reason it must end the check with: one DriftCheck
# (and Secret) per fault, all checked at once, so the three cost about the time of one.
CREDENTIAL_FAULTS = {
    "wrong-secret": ("wrong_secret_env", 7, "SignatureDoesNotMatch", "secret access key does not belong"),
    "unknown-key": ("wrong_access_key_env", 6, "InvalidAccessKeyId", "does not know the access key id"),
    "no-rights": ("no_rights_env", 8, "AccessDenied", "has no right"),
}


def test_each_credential_fault_stalls_its_check_and_the_fixed_secret_just_works(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    credential_scan: CredentialScan,
) -> None:
    for name, (fault, *_) in CREDENTIAL_FAULTS.items():
        create_s3_access(cluster, namespace, s3_server, getattr(s3_server, fault)(), secret=name)
        check = _check(name, bike_bucket)
        check["spec"]["storage"]["secretRef"]["name"] = name
        cluster.apply(check, namespace)
    for name in CREDENTIAL_FAULTS:
        kube.annotate("driftcheck", name, "kubedrift.io/check-now", "1")
    for name, (_, exit_code, reason, words) in CREDENTIAL_FAULTS.items():
        status = wait_status(kube, name, lambda s: s.get("lastCheck"), f"the check with {name}", 240)
        last = status["lastCheck"]
        assert not last["succeeded"] and last["reason"] == reason, dump(status)
        assert words in last["message"], dump(status)
        assert f"bucket {bike_bucket.bucket}" in last["message"] and "storage.secretRef" in last["message"]
        for type_ in ("Ready", "Stalled"):
            condition = kube.condition(name, type_)
            assert condition["reason"] == reason, dump(status)
            assert f"bucket {bike_bucket.bucket}" in condition["message"] and words in condition["message"]
        assert kube.condition(name, "Ready")["status"] == "False"
        assert kube.condition(name, "Stalled")["status"] == "True"
        events = [(e["reason"], e["message"]) for e in kube.events(name)]
        assert any(r == "CheckFailed" and reason in m for r, m in events), events
        runs = [r for r in _check_runs(kube) if r["pod"].startswith(f"{name}-")]
        assert [r["exitCode"] for r in runs] == [exit_code], runs  # permanent: one pod, no retry storm
    assert credential_scan.add_all(_outputs(cluster, kube, operator, list(CREDENTIAL_FAULTS), "faults")) == {}

    # Each Secret corrected in place; nothing else changes (pods read it by reference when they start).
    for name in CREDENTIAL_FAULTS:
        cluster.api.merge_patch(
            f"/api/v1/namespaces/{namespace}/secrets/{name}", {"stringData": s3_server.env()}
        )
        kube.annotate("driftcheck", name, "kubedrift.io/check-now", "2")
    for name in CREDENTIAL_FAULTS:
        status = wait_status(
            kube,
            name,
            lambda s: (s.get("lastCheck") or {}).get("succeeded"),
            f"{name}: the check after the fix",
            240,
        )
        assert status["lastCheck"]["reportUri"].startswith(f"s3://{bike_bucket.bucket}/"), dump(status)
        ready = wait_status(
            kube,
            name,
            lambda s: any(c["type"] == "Ready" and c["status"] == "True" for c in s.get("conditions", [])),
            f"{name}: Ready after the fix",
            60,
        )
        assert kube.condition(name, "Stalled")["status"] == "False", dump(ready)
    fixed = _outputs(cluster, kube, operator, list(CREDENTIAL_FAULTS), "fixed secrets")
    assert credential_scan.add_all(fixed) == {}


@pytest.fixture
def pod_fault_proxy(
    cluster: Cluster, s3_server: S3Server, tmp_path: Path
) -> Iterator[tuple[FaultProxy, str]]:
    """A fault proxy in front of the S3 server that pods reach over TLS; with its endpoint for them."""
    port = free_port()
    reachable = cluster.expose_host_port(port)  # the node forwards to it; the certificate names it
    with fault_proxy_for(
        s3_server, tmp_path / "proxy", ips=[reachable.rsplit(":", 1)[0]], port=port
    ) as proxy:
        yield proxy, f"https://{reachable}"


def test_throttling_that_never_stops_is_retried_by_the_job(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    pod_fault_proxy: tuple[FaultProxy, str],
) -> None:
    proxy, endpoint = pod_fault_proxy
    proxy.inject(Fault("status", status=503, code="SlowDown"))
    create_s3_access(cluster, namespace, s3_server, s3_server.env())
    cluster.apply(_check("throttled", BikeData(bike_bucket.bucket, endpoint)), namespace)
    kube.annotate("driftcheck", "throttled", "kubedrift.io/check-now", "1")
    status = wait_status(kube, "throttled", lambda s: s.get("lastCheck"), "the throttled check to fail", 400)
    last = status["lastCheck"]
    assert not last["succeeded"] and last["reason"] == "Transient", dump(status)
    assert "kept answering SlowDown" in last["message"]
    runs = _check_runs(kube)
    # Transient: not in podFailurePolicy's permanent codes, so the Job retried the pod (backoffLimit 2).
    assert [r["exitCode"] for r in runs] == [75, 75, 75], runs
    assert len(proxy.faulted("status")) >= 3 * 4  # 4 attempts of the first request in each pod


def test_trials_denied_the_training_data_fail_once_and_say_why_then_the_fixed_secret_retrains(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    credential_scan: CredentialScan,
) -> None:
    # An account of versitygw's role `userplus` may create buckets and use only those: the check's
    # data is in its own bucket, the training data in the root account's: the check runs, every
    # trial is denied.
    user = s3_server.add_account(
        Account("kubedrift-trial-user-key", "kubedrift-trial-user-secret"),
        role="userplus",
    )
    own = s3_server.client(account=user)
    bucket = f"kd-own-{namespace[-6:]}"
    own.create_bucket(Bucket=bucket)
    for key in ("reference.parquet", "2012.parquet"):
        upload_file(own, BIKES / key, bucket, key)
    check = _check("trials", BikeData(bucket, bike_bucket.endpoint))
    check["spec"]["retrain"]["trigger"] = "OnDrift"
    check["spec"]["retrain"]["grid"] = {"n_estimators": [5, 10]}
    check["spec"]["retrain"]["train"] = {"uri": bike_bucket.uri("2011.parquet")}
    check["spec"]["retrain"]["test"] = {"uri": bike_bucket.uri("2012.parquet")}
    create_s3_access(cluster, namespace, s3_server, user.env())
    cluster.apply(check, namespace)
    kube.annotate("driftcheck", "trials", "kubedrift.io/check-now", "1")
    done = lambda s: (s.get("run") or {}).get("phase") in ("Succeeded", "Failed")  # noqa: E731
    status = wait_status(kube, "trials", done, "the denied run to end", 400)
    run = status["run"]
    assert (run["phase"], run["trialsFailed"]) == ("Failed", 2), dump(status)
    assert (
        run["trialsFailure"].startswith("AccessDenied: ")
        and f"bucket {bike_bucket.bucket}" in run["trialsFailure"]
    )
    retraining = kube.condition("trials", "Retraining")
    assert retraining["reason"] == "RunFailed" and "the failed trials: AccessDenied" in retraining["message"]
    for exp in kube.experiments("trials"):
        assert (exp["status"]["phase"], exp["status"]["reason"]) == ("Failed", "AccessDenied"), dump(exp)
    train_runs = [r for r in kube.pod_runs() if r["container"] == "train"]
    assert sorted(r["exitCode"] for r in train_runs) == [8, 8], train_runs  # FailIndex: one pod per index
    extra = {user.access_key, user.secret_key}
    assert (
        credential_scan.add_all(_outputs(cluster, kube, operator, ["trials"], "denied trials"), extra) == {}
    )

    # The Secret now holds a key with rights on both buckets; a new run needs nothing else.
    cluster.api.merge_patch(f"/api/v1/namespaces/{namespace}/secrets/s3", {"stringData": s3_server.env()})
    kube.annotate("driftcheck", "trials", "kubedrift.io/retrain-now", "after-fix")
    status = wait_status(
        kube, "trials", lambda s: done(s) and s["run"]["name"] != run["name"], "the run after the fix", 400
    )
    assert status["run"]["phase"] == "Succeeded" and status["run"]["trialsSucceeded"] == 2, dump(status)
    assert "trialsFailure" not in status["run"] or status["run"]["trialsFailure"] is None
    assert credential_scan.add_all(_outputs(cluster, kube, operator, ["trials"], "fixed trials"), extra) == {}
