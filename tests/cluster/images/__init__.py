"""kubedrift's two images, built on a machine without a Docker engine or a registry.

buildah builds the unchanged Dockerfiles on a base made from Debian packages (base.sh), and each
image is exported as a docker archive that containerd imports (`ctr -n k8s.io images import`),
tagged as the chart renders it by default. Everything is cached by content under
$KUBEDRIFT_CACHE/images: `python -m tests.cluster.images` builds only what changed.
"""
