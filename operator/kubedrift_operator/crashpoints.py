"""Test-only crash points: the operator dies right after a named write, as if SIGKILLed there.

Off unless `KUBEDRIFT_TEST_CRASH_AFTER=<point>` is set (the chart never sets it). The kill
test arms one point, waits for the operator to exit with EXIT_CODE, restarts it unarmed
and checks that the reconcile converges (tests/integration/operator/test_failures.py).
Exiting with os._exit skips every cleanup, like an OOM kill or a node loss.

The points, in the order of a run (see the controller's docstring for the write order):

- `decision-written`: a status that decides something was written; its children not created
- `<component>-<kind>-created`, e.g. `train-job-created` (the Indexed Job exists, no
  Experiment has a status yet) or `promote-job-created` (the copy runs, production is
  not recorded yet): right after that child was created
- `trials-recorded`: the Experiment statuses that end a run were written; the run summary not
"""

from __future__ import annotations

import logging
import os

from kubedrift.models.status import DriftCheckStatus
from kubedrift_operator.build.common import JSON, LABEL_COMPONENT

ENV = "KUBEDRIFT_TEST_CRASH_AFTER"
EXIT_CODE = 86  # no real exit uses it, so the test knows the point was reached
DECISION_WRITTEN = "decision-written"
TRIALS_RECORDED = "trials-recorded"

logger = logging.getLogger("kubedrift.operator")


def crash_after(point: str) -> None:
    if os.environ.get(ENV) == point:
        logger.warning("crash point %s reached: exiting", point)
        os._exit(EXIT_CODE)


def created(manifest: JSON) -> str:
    """The point right after this child was created."""
    component = manifest["metadata"].get("labels", {}).get(LABEL_COMPONENT, "")
    return f"{component}-{manifest['kind'].lower()}-created"


def ends_run(old: DriftCheckStatus, new: DriftCheckStatus | None) -> bool:
    """Whether the status about to be written summarises a run that was still running."""
    return (
        new is not None
        and new.run is not None
        and new.run.phase != "Running"
        and old.run is not None
        and old.run.name == new.run.name
        and old.run.phase == "Running"
    )
