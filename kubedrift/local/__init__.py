"""Running a DriftCheck on this machine, without a cluster: `kubedrift run`."""
