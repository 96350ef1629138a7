"""The web view's data from the output folder of local `kubedrift run`s: no cluster.

`kubedrift ui DIR` reads what the runs wrote under their `storage.reportsUri` (DIR):

    DIR/<check>/<YYYYmmddTHHMMSS.ffffffZ>/report.json, report.html   one drift check each
    DIR/<check>/<run>/run.json                                         the run's config and failures
    DIR/<check>/<run>/<index>/trial.json, baseline/trial.json          each trial's summary
    DIR/<check>/production/production.json                             the promoted model

and hands it over in the shapes the cluster has: a `DriftCheckStatus` whose history holds
every report in the folder (a local folder keeps them all, the cluster's status the last
ten), and the same comparison `Table` that `kubedrift run` prints (`kubedrift.table.trials`).
A local folder remembers only the current production model, so it shows one promotion.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kubedrift.errors import DataNotFound, DataUnreadable
from kubedrift.models.localrun import RUN_RECORD, LocalRunRecord
from kubedrift.models.report import DriftReport
from kubedrift.models.results import FailedTrial, TrialSummary
from kubedrift.models.status import (
    CheckRecord,
    DriftCheckStatus,
    LastCheck,
    ProductionModel,
    PromotionRecord,
)
from kubedrift.reports import REPORT_JSON, read_report_file
from kubedrift.table.model import ObjectiveRef, SortOrder, Table, assemble, metric_goal
from kubedrift.table.trials import baseline_row, trial_row, trial_table
from kubedrift.ui.source import CheckInfo, RunInfo, report_uris

REPORT_FOLDER = re.compile(r"^\d{8}T\d{6}\.\d{6}Z$")
PRODUCTION_RECORD = "production.json"  # as kubedrift.local.run writes it
TRIAL_RECORD = "trial.json"
BASELINE_FOLDER = "baseline"
DEFAULT_NAMESPACE = "default"  # what a local run's reports say


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise DataNotFound(f"{path}: not there") from error
    except (OSError, ValueError) as error:
        raise DataUnreadable(f"{path}: {type(error).__name__}: {error}") from error


class FolderSource:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = f"local runs in {root}"

    # -- checks
    def _check_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            raise DataNotFound(f"{self.root}: no such folder (kubedrift ui wants a run's storage.reportsUri)")
        return sorted(
            p for p in self.root.iterdir() if p.is_dir() and (self._report_dirs(p) or self._run_dirs(p))
        )

    def _report_dirs(self, check: Path) -> list[Path]:
        return sorted(
            p for p in check.iterdir() if REPORT_FOLDER.match(p.name) and (p / REPORT_JSON).is_file()
        )

    def _run_dirs(self, check: Path) -> list[Path]:
        if not check.is_dir():
            return []
        return sorted(
            p
            for p in check.iterdir()
            if p.is_dir() and ((p / RUN_RECORD).is_file() or any(p.glob(f"*/{TRIAL_RECORD}")))
        )

    def _reports(self, check: Path) -> list[DriftReport]:
        reports = []
        for folder in self._report_dirs(check):
            try:
                reports.append(DriftReport.model_validate_json((folder / REPORT_JSON).read_bytes()))
            except (OSError, ValidationError):
                continue  # not a complete report: the check page says so when it reads it
        return sorted(reports, key=lambda r: r.when, reverse=True)

    def namespaces(self) -> list[str]:
        return sorted({c.namespace for c in self._all_checks()}) or [DEFAULT_NAMESPACE]

    def _all_checks(self) -> list[CheckInfo]:
        return [self._info(path) for path in self._check_dirs()]

    def checks(self, namespace: str) -> list[CheckInfo]:
        return [c for c in self._all_checks() if c.namespace == namespace]

    def check(self, namespace: str, name: str) -> CheckInfo:
        path = self.root / name
        if "/" in name or name.startswith(".") or not path.is_dir() or path not in self._check_dirs():
            raise DataNotFound(f"{self.root}: no local runs of a DriftCheck named {name}")
        info = self._info(path)
        if info.namespace != namespace:
            raise DataNotFound(f"{self.root}: {name} is in namespace {info.namespace}, not {namespace}")
        return info

    def _info(self, path: Path) -> CheckInfo:
        reports = self._reports(path)
        history = [
            CheckRecord(
                time=r.finished_at,
                scheduled_at=r.scheduled_at,
                window=r.current.window,
                job="local",
                succeeded=True,
                dataset_drift=r.dataset.drifted,
                drift_share=r.dataset.drift_share,
                report_uri=str(path / _folder_name(r)),
            )
            for r in reports
        ]
        last = None
        if reports:
            newest = reports[0]
            last = LastCheck(
                time=newest.finished_at,
                job="local",
                succeeded=True,
                dataset_drift=newest.dataset.drifted,
                drift_share=newest.dataset.drift_share,
                drifted_columns=newest.dataset.drifted_columns,
                target_drift=newest.target.drifted if newest.target is not None else None,
                report_uri=history[0].report_uri,
                reference=newest.reference,
                current=newest.current,
            )
        production, promotions = self._production(path)
        objective = self._objective(path)
        return CheckInfo(
            namespace=reports[0].namespace if reports else DEFAULT_NAMESPACE,
            name=path.name,
            status=DriftCheckStatus(
                last_check=last, history=history, production=production, promotions=promotions
            ),
            objective=objective,
            drift_share_threshold=reports[0].settings.dataset_drift_share if reports else None,
        )

    def _production(self, path: Path) -> tuple[ProductionModel | None, list[PromotionRecord]]:
        record_path = path / "production" / PRODUCTION_RECORD
        if not record_path.is_file():
            return None, []
        record = _json(record_path)
        promoted_at = datetime.fromisoformat(record["promotedAt"])
        production = ProductionModel(
            experiment=record["experiment"],
            objective=record.get("objective"),
            uri=str(record_path.parent),
            promoted_at=promoted_at,
        )
        return production, [
            PromotionRecord(
                experiment=production.experiment, objective=production.objective, promoted_at=promoted_at
            )
        ]

    def _objective(self, path: Path) -> ObjectiveRef | None:
        for run in reversed(self._run_dirs(path)):
            if (run / RUN_RECORD).is_file():
                objective = self._record(run).config.retrain.objective
                return ObjectiveRef(objective.metric, objective.goal)
        record_path = path / "production" / PRODUCTION_RECORD
        if record_path.is_file() and "metric" in (record := _json(record_path)):
            return ObjectiveRef(record["metric"], metric_goal(record["metric"]))
        return None

    def _record(self, run: Path) -> LocalRunRecord:
        try:
            return LocalRunRecord.model_validate(_json(run / RUN_RECORD))
        except ValidationError as error:
            raise DataUnreadable(
                f"{run / RUN_RECORD}: not a run record ({error.error_count()} errors)"
            ) from error

    # -- runs
    def _summaries(self, run: Path) -> list[TrialSummary]:
        summaries = []
        for trial in sorted(run.glob(f"*/{TRIAL_RECORD}")):
            try:
                summaries.append(TrialSummary.model_validate(_json(trial)["summary"]))
            except (KeyError, ValidationError) as error:
                raise DataUnreadable(f"{trial}: not a trial record ({type(error).__name__})") from error
        return summaries

    def runs(self, namespace: str, name: str) -> list[RunInfo]:
        check = self.check(namespace, name)
        infos = []
        for run in self._run_dirs(self.root / name):
            table = self._table(run, check.objective, None, None)
            trials = [row for row in table.rows if not row.baseline]
            infos.append(
                RunInfo(
                    name=run.name,
                    trials=len(trials),
                    succeeded=sum(r.phase == "Succeeded" for r in trials),
                    failed=sum(r.phase == "Failed" for r in trials),
                    started_at=_run_started(run.name),
                    best=next((r.experiment for r in trials if r.best), None),
                )
            )
        return sorted(infos, key=lambda r: r.name, reverse=True)

    def run_table(
        self, namespace: str, name: str, run: str, sort_by: str | None, sort_order: SortOrder | None
    ) -> Table:
        check = self.check(namespace, name)
        folder = self.root / name / run
        if "/" in run or run.startswith(".") or folder not in self._run_dirs(self.root / name):
            raise DataNotFound(f"{self.root / name}: no retrain run {run}")
        return self._table(folder, check.objective, sort_by, sort_order)

    def _table(
        self, run: Path, objective: ObjectiveRef | None, sort_by: str | None, sort_order: SortOrder | None
    ) -> Table:
        summaries = self._summaries(run)
        if (run / RUN_RECORD).is_file():
            record = self._record(run)
            failures = [
                FailedTrial(
                    index=f.index,
                    reason=f.reason,
                    message=f.message,
                    params=dict(f.params),
                    baseline=f.baseline,
                )
                for f in record.failed
            ]
            return trial_table(record.config, [*summaries, *failures], sort_by=sort_by, sort_order=sort_order)
        # A run from before run.json: the same rows, the objective from the production record; a
        # failed index left no trial.json, so it is not known here.
        trials = [trial_row(s, run.name) for s in summaries if not s.baseline]
        names = {p for row in trials for p in row.params}
        baseline = next((baseline_row(s, names) for s in summaries if s.baseline), None)
        return assemble(
            run.parent.name,
            trials,
            baseline,
            objective,
            sort_by=sort_by,
            sort_order=sort_order,
            show_index=True,
        )

    # -- reports
    def report_file(self, check: CheckInfo, report_id: str, file_name: str) -> bytes:
        return read_report_file(report_uris(check.status)[report_id], file_name, None)


def _folder_name(report: DriftReport) -> str:
    return report.report_uri.rstrip("/").rsplit("/", 1)[-1]


def _run_started(name: str) -> datetime | None:
    """`local-20261206t235523-265596` → its start time (UTC)."""
    match = re.match(r"^local-(\d{8}t\d{6})-(\d{6})", name)
    if match is None:
        return None
    return datetime.strptime(f"{match[1]}{match[2]}+0000", "%Y%m%dt%H%M%S%f%z")
