#!/usr/bin/env bash
# Builds the test control plane from Go modules and prints the directory that
# holds the binaries: etcd, kube-apiserver, kube-controller-manager, kubectl, helm.
#
# Everything is cached outside the clone, under $KUBEDRIFT_CACHE (default
# ~/.cache/kubedrift): the Go module and build caches, and the binaries in a
# directory keyed by the pinned versions and a hash of go.sum. A second run
# finds the binaries and builds nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"

cache=${KUBEDRIFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubedrift}
key=$(cat "$here/versions.env" "$here/kube/go.sum" "$here/helm/go.sum" "$0" | sha256sum | cut -c1-12)
bin="$cache/bin/kube-$KUBE_VERSION-helm-$HELM_VERSION-$key"
if [[ -x "$bin/helm" && -x "$bin/kube-apiserver" ]]; then
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath" CGO_ENABLED=0
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
staging="$bin.partial"
rm -rf "$staging" && mkdir -p "$staging"

# The same version stamps the kubernetes release build sets, so that /version
# and `kubectl version` report the real release.
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

(cd "$here/kube" && go build -ldflags "-s -w$stamp" -o "$staging/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd) >&2
(cd "$here/helm" && go build -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  -o "$staging/" helm.sh/helm/v3/cmd/helm) >&2

rm -rf "$bin" && mv "$staging" "$bin"
echo "$bin"
