"""`kubectl drift`: a kubectl plugin for DriftChecks and their Experiments.

The modules follow the data: `kube` reads and patches the resources (the one
module that talks to the API), `kubedrift.table` turns Experiments into the
comparison table and prints it as text, CSV, Markdown or JSON (pure, shared with
the local `kubedrift run`), `triggers` builds the trigger annotations and reads
their acknowledgement (pure), and `commands` wires them to the command line.
"""
