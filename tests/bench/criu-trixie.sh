#!/bin/sh
# tests/bench/criu-trixie.sh [DIR]: add criu (4.1 in trixie) to the chroot that
# tests/bench/crun-trixie.sh makes (default /var/cache/ward-bench/trixie), for
# tests/bench/checkpoint.sh. bookworm's criu 3.17 fails on this host ("vdso: Unexpected rt vDSO
# area bounds"); trixie's runs. crun in the chroot checkpoints through libcriu, so the crun
# wrapper of crun-trixie.sh then runs `crun checkpoint/restore` with it. Idempotent.
#
# The chroot's /etc/criu/default.conf (read by criu for crun's RPC requests too) says
# `network-lock skip`: without it every dump failed with "CRIU checkpointing failed -52 ...
# Invalid exchange", dump.log showing "net: Locking network failed: iptables-restore returned
# -1" (a minbase chroot has no iptables). ward does not lock the network either, so the two
# are compared doing the same work. The containers' stdio must be /dev/null (checkpoint.sh
# does so for crun): criu cannot dump a host file outside the container's mounts ("Can't lookup
# mount=N for fd=1").
set -eu
dir=${1:-${CRUN_TRIXIE_DIR:-/var/cache/ward-bench/trixie}}
[ "$(id -u)" = 0 ] || { echo "criu-trixie: run as root" >&2; exit 1; }
"$(dirname "$0")/crun-trixie.sh" "$dir" >/dev/null
if [ ! -x "$dir/usr/sbin/criu" ] || ! ls "$dir"/usr/lib/*/libcriu.so.2 >/dev/null 2>&1; then
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	chroot "$dir" apt-get update >&2
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y criu libcriu2 >&2
fi
mkdir -p "$dir/etc/criu"
grep -qx 'network-lock skip' "$dir/etc/criu/default.conf" 2>/dev/null ||
	echo 'network-lock skip' >>"$dir/etc/criu/default.conf"
chroot "$dir" /usr/sbin/criu --version | head -1
