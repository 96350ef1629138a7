"""The kubedrift operator: pure builders and plans (`build`, `reconcile`) and the one module
that talks to the API (`api`)."""
