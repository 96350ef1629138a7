"""The training job: one completion index of a retrain run trains and evaluates one combination.

Read in the order the data flows: `grid` (index → params), `estimators` (the
allow-list and param checks), `features` (column roles), `pipeline` (encoding
and estimator), `metrics`, `artifacts` (where outputs go, the model format),
`trial` (one index end to end), `job` (the container command) and `local` (a
whole grid in a process pool, then the comparison table of `kubedrift.table`).
"""
