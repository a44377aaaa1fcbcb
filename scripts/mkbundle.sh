#!/bin/sh
# mkbundle.sh DIR [ARG...]: make an OCI bundle in DIR from busybox-static.
#
#   DIR/rootfs       bin/busybox, one symlink per applet in bin/, /etc/passwd and /etc/group
#                    (root and user 1000), empty /proc /sys /dev /tmp
#   DIR/config.json  the same content as `runc spec` (terminal false), process.args = ARG...
#                    (default: sh)
#
# Environment:
#   BUSYBOX=PATH     the static busybox to copy (default: /bin/busybox, /usr/bin/busybox)
#   ROOTFS=PATH      do not copy a rootfs: point root.path at this existing (shared) rootfs
#                    instead; it is made first when it does not exist yet
set -eu

usage() { echo "usage: $0 DIR [ARG...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dir=$1
shift

bb=${BUSYBOX:-}
if [ -z "$bb" ]; then
	for c in /bin/busybox /usr/bin/busybox; do
		[ -x "$c" ] && { bb=$c; break; }
	done
fi
[ -n "$bb" ] || { echo "mkbundle: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
command -v jq >/dev/null || { echo "mkbundle: jq not found" >&2; exit 1; }

make_rootfs() { # $1 = rootfs directory to create
	r=$1
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" "$r/home/user"
	chmod 1777 "$r/tmp"
	cp "$bb" "$r/bin/busybox"
	chmod 0755 "$r/bin/busybox"
	# One relative symlink per applet; perl makes them in one process (a shell loop of
	# `ln -s` would fork ~270 times).
	"$r/bin/busybox" --list | perl -e '
		my $d = shift; chomp(my @a = <STDIN>);
		for (@a) { next if $_ eq "busybox" || -e "$d/$_"; symlink("busybox", "$d/$_") or die "symlink $_: $!\n" }' "$r/bin"
	ln -sf bin "$r/sbin"
	mkdir -p "$r/usr"
	ln -sf ../bin "$r/usr/bin"
	ln -sf ../bin "$r/usr/sbin"
	cat >"$r/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/sh
	user:x:1000:1000:user:/home/user:/bin/sh
	nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$r/etc/group" <<-'EOF'
	root:x:0:
	user:x:1000:
	nogroup:x:65534:
	EOF
	chown 1000:1000 "$r/home/user"
}

mkdir -p "$dir"
if [ -n "${ROOTFS:-}" ]; then
	[ -x "$ROOTFS/bin/busybox" ] || make_rootfs "$ROOTFS"
	rootpath=$ROOTFS
else
	make_rootfs "$dir/rootfs"
	rootpath=rootfs
fi

# The runc 1.1 `spec` defaults (terminal false for a non-interactive bundle).
[ $# -gt 0 ] || set -- sh
jq -n --arg root "$rootpath" '
def caps: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
{
  ociVersion: "1.0.2-dev",
  process: {
    terminal: false,
    user: {uid: 0, gid: 0},
    args: $ARGS.positional,
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    cwd: "/",
    capabilities: {bounding: caps, effective: caps, permitted: caps, ambient: caps},
    rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
    noNewPrivileges: true
  },
  root: {path: $root, readonly: true},
  hostname: "runc",
  mounts: [
    {destination: "/proc", type: "proc", source: "proc"},
    {destination: "/dev", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {destination: "/dev/pts", type: "devpts", source: "devpts",
     options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {destination: "/dev/shm", type: "tmpfs", source: "shm",
     options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
     options: ["nosuid", "noexec", "nodev"]},
    {destination: "/sys", type: "sysfs", source: "sysfs",
     options: ["nosuid", "noexec", "nodev", "ro"]},
    {destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
     options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  linux: {
    resources: {devices: [{allow: false, access: "rwm"}]},
    namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
    maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/sys/firmware", "/proc/scsi"],
    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}' --args -- "$@" >"$dir/config.json"
