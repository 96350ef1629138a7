// Command etcd is etcd's own server entry point, built inside this module so
// that its version is the one the pinned kube-apiserver release was tested with.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
