from kubedrift.operator.reconcile.draft import Children
from kubedrift.operator.reconcile.plan import plan
from kubedrift.operator.settings import Settings
from tests.unit.operator import factories as f


def test_smoke() -> None:
    p = plan(f.driftcheck(), Children(), Settings(), f.NOW)
    print(p)
