"""kubedrift: keep production models from going stale, the Kubernetes-native way."""

__version__ = "0.1.0"
