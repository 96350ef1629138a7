"""The local Kubernetes control plane the tests run against, and its node agent.

Built from Go modules (gobuild/), started on loopback (controlplane.py), with a small
kubelet stand-in (nodeagent.py) that runs pods as local processes. `python -m tests.cluster up`
starts it by hand; tests/conftest.py starts it for pytest.
"""
