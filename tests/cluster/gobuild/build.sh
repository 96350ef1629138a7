#!/usr/bin/env bash
# Builds the test cluster from Go modules and prints the directory that holds the binaries:
#   control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm;
#   node:          kubelet, kube-proxy, containerd, containerd-shim-runc-v2, ctr, pause;
#   object store:  versitygw (the tests' S3-compatible server).
#
# Everything is cached outside the clone, under $KUBEDRIFT_CACHE (default
# ~/.cache/kubedrift): the Go module and build caches, and the binaries in a
# directory keyed by the pinned versions and a hash of the go.sum files and this
# script. A second run finds the binaries and builds nothing.
#
# `build.sh --check` only prints the directory, failing if it is not built yet.
#
# Several suites may build at once on one machine: each build stages into its
# own temporary directory, and a lock per key makes the later ones wait for the
# first and reuse its result instead of building the same thing twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"

cache=${KUBEDRIFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubedrift}
key=$(cat "$here/versions.env" "$here/kube/go.sum" "$here/helm/go.sum" "$here/containerd/go.sum" \
  "$here/versitygw/go.sum" \
  "$here/containerd/cmd/pause/main.go" "$0" | sha256sum | cut -c1-12)
bin="$cache/bin/kube-$KUBE_VERSION-helm-$HELM_VERSION-containerd-$CONTAINERD_VERSION-versitygw-$VERSITYGW_VERSION-$key"
built() { [[ -x "$bin/helm" && -x "$bin/kube-apiserver" && -x "$bin/kubelet" && -x "$bin/containerd" && -x "$bin/versitygw" ]]; }
if built; then
  echo "$bin"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then # the test suite only looks: builds belong before pytest
  echo "not built yet: $bin; run 'make cluster-binaries' (or $0) first" >&2
  exit 3
fi

mkdir -p "$cache/bin"
exec 9>"$bin.lock"
flock 9
if built; then # another suite built it while we waited
  echo "$bin"
  exit 0
fi

# Builds share the machine with test runs: one package at a time, at low priority.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath -p=${KUBEDRIFT_BUILD_JOBS:-1}" CGO_ENABLED=0
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
staging=$(mktemp -d "$bin.partial.XXXXXX")
trap 'rm -rf "$staging"' EXIT
build() { nice -n 10 go build "$@" >&2; }

# The same version stamps the kubernetes release build sets, so that /version
# and `kubectl version` report the real release.
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

(cd "$here/kube" && build -ldflags "-s -w$stamp" -o "$staging/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy \
  ./cmd/etcd)
(cd "$here/helm" && build -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  -o "$staging/" helm.sh/helm/v3/cmd/helm)
# containerd's release build stamps its version the same way; btrfs and devmapper need cgo, and
# the node uses the overlayfs snapshotter only.
(cd "$here/containerd" && build -tags "no_btrfs no_devmapper no_zfs" \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
  -o "$staging/" \
  github.com/containerd/containerd/v2/cmd/containerd \
  github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  github.com/containerd/containerd/v2/cmd/ctr \
  ./cmd/pause)
# versitygw's release build stamps main.Version the same way (its Makefile); the posix backend
# needs no cgo.
(cd "$here/versitygw" && build -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION -X main.BuildTime=1970-01-01T00:00:00Z" \
  -o "$staging/" github.com/versity/versitygw/cmd/versitygw)

rm -rf "$bin" && mv "$staging" "$bin"
echo "$bin"
