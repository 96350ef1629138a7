"""`kubectl drift`: a kubectl plugin for DriftChecks and their Experiments.

The modules follow the data: `kube` reads and patches the resources (the one
module that talks to the API), `table` turns Experiments into a comparison table
(pure), `render` prints that table as rich, CSV, Markdown or JSON (pure),
`triggers` builds the trigger annotations and reads their acknowledgement
(pure), and `commands` wires them to the command line.
"""
