"""The web view's data from a cluster, through the plugin's own connection (the user's kubeconfig).

Every read is the user's own request, so their RBAC decides what a page shows; a refusal
is `Forbidden` with the verb, the kind and the namespace. Reports are read from object
storage only when a page needs them, with the endpoint and region of the DriftCheck's
`spec.storage` and the credentials of the user's environment (as `kubectl drift report`).
"""

from __future__ import annotations

from dataclasses import replace

from kubedrift.errors import NotFound
from kubedrift.models.resources import DriftCheck, Experiment
from kubedrift.plugin.kube import Cluster
from kubedrift.reports import read_report_file
from kubedrift.table.experiments import build_table, experiment_row, objective_of
from kubedrift.table.model import ObjectiveRef, SortOrder, Table, best_trial
from kubedrift.ui.source import CheckInfo, RunInfo, report_folder, report_uris


def check_info(check: DriftCheck) -> CheckInfo:
    return CheckInfo(
        namespace=check.metadata.namespace or "default",
        name=check.metadata.name,
        status=check.status,
        objective=objective_of(check, []),
        schedule=check.spec.schedule,
        drift_share_threshold=check.spec.drift.dataset_drift_share,
        storage=check.spec.storage,
    )


def run_infos(experiments: list[Experiment], objective: ObjectiveRef | None) -> list[RunInfo]:
    """The runs these Experiments belong to, newest first (by their first start), each with its best."""
    runs: dict[str, list[Experiment]] = {}
    for experiment in experiments:
        runs.setdefault(experiment.spec.run, []).append(experiment)
    infos = []
    for name, members in runs.items():
        started = [e.status.started_at for e in members if e.status.started_at is not None]
        best = best_trial([experiment_row(e) for e in members], objective or objective_of(None, members))
        infos.append(
            RunInfo(
                name=name,
                trials=len(members),
                succeeded=sum(e.status.phase == "Succeeded" for e in members),
                failed=sum(e.status.phase == "Failed" for e in members),
                started_at=min(started) if started else None,
                best=best,
            )
        )
    return sorted(infos, key=lambda r: (r.started_at is None, r.started_at), reverse=True)


class ClusterSource:
    def __init__(self, cluster: Cluster, label: str) -> None:
        self.cluster = cluster
        self.label = label

    def _in(self, namespace: str) -> Cluster:
        return replace(self.cluster, namespace=namespace)

    def namespaces(self) -> list[str]:
        return [self.cluster.namespace]

    def checks(self, namespace: str) -> list[CheckInfo]:
        return [
            check_info(c)
            for c in sorted(self._in(namespace).list_driftchecks(), key=lambda c: c.metadata.name)
        ]

    def check(self, namespace: str, name: str) -> CheckInfo:
        return check_info(self._in(namespace).get_driftcheck(name))

    def runs(self, namespace: str, name: str) -> list[RunInfo]:
        check = self.check(namespace, name)
        return run_infos(self._in(namespace).list_experiments(check=name), check.objective)

    def run_table(
        self, namespace: str, name: str, run: str, sort_by: str | None, sort_order: SortOrder | None
    ) -> Table:
        cluster = self._in(namespace)
        check = cluster.get_driftcheck(name)
        experiments = cluster.list_experiments(check=name, run=run)
        if not experiments:
            raise NotFound(f'driftcheck/{name} has no Experiments of run {run} in namespace "{namespace}"')
        production = None
        promoted = check.status.production
        if promoted is not None and all(e.metadata.name != promoted.experiment for e in experiments):
            try:
                production = cluster.get_experiment(promoted.experiment)
            except NotFound:  # garbage-collected; the status still has its objective
                production = None
        return build_table(
            name, experiments, check, sort_by=sort_by, sort_order=sort_order, production=production
        )

    def report_file(self, check: CheckInfo, report_id: str, file_name: str) -> bytes:
        uri = report_uris(check.status)[report_id]
        return read_report_file(report_folder(uri), file_name, check.storage)
