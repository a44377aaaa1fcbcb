#!/bin/sh
# scripts/podman-conf.sh NAME=PATH...: a containers.conf (on stdout) for a private podman that
# runs OCI runtimes by name, the first one by default, as the e2e tests and the podman
# benchmark use it: cgroupfs cgroups, file events, no network, k8s-file logs, every runtime in
# runtime_supports_json (so conmon passes --log-format json and podman shows the runtime's own
# message), and default ulimits under this host's hard limits (no CAP_SYS_RESOURCE here:
# podman's 1048576 would fail; ENVIRONMENT.md).
[ $# -gt 0 ] || { echo "usage: $0 NAME=PATH..." >&2; exit 1; }
names="" table=""
for rt; do
	names="$names${names:+, }\"${rt%%=*}\""
	table="$table${rt%%=*} = [\"${rt#*=}\"]
"
done
cat <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "${1%%=*}"
runtime_supports_json = [$names]

[engine.runtimes]
$table
CONF
