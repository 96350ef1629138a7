"""The comparison table of a retrain run, like `dvc exp show`: one model, one renderer.

Read in the order the data flows: rows come from Experiment resources
(`experiments`, for `kubectl drift exp show`) or from the trial summaries of a
local run (`trials`, for `kubedrift run` and `kubedrift train --all`); `model`
turns rows into a `Table` (columns, order, best mark); `cells` spells one value;
`terminal` prints the table for people at any width and `formats` writes it as
CSV, Markdown and JSON. All of it is pure and imports neither the Kubernetes
client nor the training stack, so the plugin and the jobs image both carry it.
"""
