"""The local Kubernetes cluster the tests run against: a control plane and one real node.

Built from Go modules (gobuild/), the control plane on loopback (controlplane.py), the node
(kubelet, kube-proxy, containerd, runc) in namespaces of its own (realnode.py), kubedrift's images
built with buildah (images/) and imported into it. `python -m tests.cluster up` starts it by
hand; tests/fixtures/cluster.py starts it for pytest.
"""
