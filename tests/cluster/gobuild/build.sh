#!/usr/bin/env bash
# Builds the test cluster from Go modules and prints the directory that holds the binaries:
#   control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm;
#   node:          kubelet, kube-proxy, containerd, containerd-shim-runc-v2, ctr, pause;
#   object store:  versitygw (the tests' S3-compatible server);
#   monitoring:    promtool (the chart's alert rules are tested with `promtool test rules`), and
#                  the prometheus-operator CRDs (PrometheusRule, ServiceMonitor, ...) in crds/, the
#                  files of its Go module, so the chart's monitoring objects are validated against
#                  their real schemas.
#
# Everything is cached outside the clone, under $KUBEDRIFT_CACHE (default
# ~/.cache/kubedrift): the Go module and build caches, and the binaries in a
# directory keyed by the pinned versions and a hash of the go.sum files and this
# script. A second run finds the binaries and builds nothing.
#
# `build.sh --check` only prints the directory, failing if it is not built yet.
#
# stdout carries only that directory (callers parse it). A build reports its progress on stderr,
# one line per binary and the wall time at the end: a cold build takes minutes.
#
# Several suites may build at once on one machine: each build stages into its
# own temporary directory, and a lock per key makes the later ones wait for the
# first and reuse its result instead of building the same thing twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"

cache=${KUBEDRIFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubedrift}
key=$(cat "$here/versions.env" "$here/kube/go.sum" "$here/helm/go.sum" "$here/containerd/go.sum" \
  "$here/versitygw/go.sum" "$here/prometheus/go.sum" \
  "$here/containerd/cmd/pause/main.go" "$0" | sha256sum | cut -c1-12)
bin="$cache/bin/kube-$KUBE_VERSION-helm-$HELM_VERSION-containerd-$CONTAINERD_VERSION-versitygw-$VERSITYGW_VERSION"
bin+="-prometheus-$PROMETHEUS_VERSION-$key"
built() {
  [[ -x "$bin/helm" && -x "$bin/kube-apiserver" && -x "$bin/kubelet" && -x "$bin/containerd" && -x "$bin/versitygw" &&
    -x "$bin/promtool" && -f "$bin/crds/monitoring.coreos.com_prometheusrules.yaml" ]]
}
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
if ! flock -n 9; then
  echo "waiting for another build of $(basename "$bin") to finish…" >&2
  flock 9
fi
if built; then # another suite built it while we waited
  echo "$bin"
  exit 0
fi

# Builds share the machine with test runs: one package at a time, at low priority.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath -p=${KUBEDRIFT_BUILD_JOBS:-1}" CGO_ENABLED=0
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
staging=$(mktemp -d "$bin.partial.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# One `go build` per binary, so that progress shows per binary; the packages they share are
# compiled once and then come from the build cache.
total=14 count=0 started=$SECONDS
build() { # <module dir> <binary> <package> [go build flags...]
  local dir=$1 name=$2 package=$3
  shift 3
  count=$((count + 1))
  echo "building $name ($count/$total)…" >&2
  (cd "$here/$dir" && nice -n 10 go build "$@" -o "$staging/$name" "$package" >&2)
}

# The same version stamps the kubernetes release build sets, so that /version
# and `kubectl version` report the real release.
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
  build kube "$cmd" "k8s.io/kubernetes/cmd/$cmd" -ldflags "-s -w$stamp"
done
build kube etcd ./cmd/etcd -ldflags "-s -w$stamp"
build helm helm helm.sh/helm/v3/cmd/helm -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
# containerd's release build stamps its version the same way; btrfs and devmapper need cgo, and
# the node uses the overlayfs snapshotter only.
for cmd in containerd containerd-shim-runc-v2 ctr; do
  build containerd "$cmd" "github.com/containerd/containerd/v2/cmd/$cmd" -tags "no_btrfs no_devmapper no_zfs" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
done
build containerd pause ./cmd/pause -tags "no_btrfs no_devmapper no_zfs" \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
# versitygw's release build stamps main.Version the same way (its Makefile); the posix backend
# needs no cgo.
build versitygw versitygw github.com/versity/versitygw/cmd/versitygw \
  -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION -X main.BuildTime=1970-01-01T00:00:00Z"

# promtool only: remove_all_sd leaves out the service discoveries (cloud SDKs, the kubernetes
# client) that rule tests never use, which keeps the build small. The version stamp is the one
# Prometheus' release build (promu) sets; module v0.MMM.P is Prometheus release M.MM.P.
prometheus_release=${PROMETHEUS_VERSION#v0.}
prometheus_release="$((${prometheus_release%%.*} / 100)).$((${prometheus_release%%.*} % 100)).${prometheus_release#*.}"
stamp="-X github.com/prometheus/common/version.Version=$prometheus_release"
stamp+=" -X github.com/prometheus/common/version.BuildDate=19700101-00:00:00"
build prometheus promtool github.com/prometheus/prometheus/cmd/promtool -tags remove_all_sd -ldflags "-s -w $stamp"
# The CRDs as the module ships them (`go mod download` checks its zip against the Go checksum
# database).
operator_module="github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
crds=$(cd "$here/prometheus" && go mod download -json "$operator_module" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
mkdir "$staging/crds"
cp "$crds"/example/prometheus-operator-crd/*.yaml "$staging/crds/"

rm -rf "$bin" && mv "$staging" "$bin"
elapsed=$((SECONDS - started))
echo "built $count binaries in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
echo "$bin"
