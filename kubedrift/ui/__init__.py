"""The read-only web view: `kubectl drift ui` over a cluster, `kubedrift ui DIR` over local runs.

Read in the order the data flows: a `source` hands over checks, runs and reports as the
models shape them — `cluster` through the user's own kubeconfig (`kubedrift.plugin.kube`),
`folder` from the output folder of local `kubedrift run`s; `pages` turns that data into a
page (its JSON twin, its HTML body, its figures, drawn by `plots`), purely; `server`
routes URLs to pages and serves plotly.js from the installed `plotly` package, so
nothing is fetched from anywhere but 127.0.0.1.
"""
