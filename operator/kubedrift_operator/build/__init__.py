"""Pure builders of child manifests: (DriftCheck, Settings, …) → plain dicts.

Nothing here talks to the API or reads the clock; every function is tested without a
cluster (tests/unit/operator/test_build.py).
"""
