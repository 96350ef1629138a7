"""The reconcile decision, as pure functions: (DriftCheck, its children, now) → Plan.

`plan.plan()` is the entry; it walks the DriftCheck's life in the order the data flows:
`checks` (record finished checks, trigger check-now), `runs` (start a retrain run,
follow its Experiments, summarise it), `promotion` (pick and copy the best model),
then `conditions`. The controller (`kubedrift_operator.controller`) executes the Plan.
"""
