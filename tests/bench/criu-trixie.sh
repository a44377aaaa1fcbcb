#!/bin/sh
# tests/bench/criu-trixie.sh [DIR]: add criu (4.1 in trixie) to the chroot that
# tests/bench/crun-trixie.sh makes (default /var/cache/ward-bench/trixie), for
# tests/bench/checkpoint.sh. bookworm's criu 3.17 fails on this host ("vdso: Unexpected rt vDSO
# area bounds"); trixie's runs. crun in the chroot checkpoints through libcriu, so the crun
# wrapper of crun-trixie.sh then runs `crun checkpoint/restore` with it. Idempotent.
set -eu
dir=${1:-${CRUN_TRIXIE_DIR:-/var/cache/ward-bench/trixie}}
[ "$(id -u)" = 0 ] || { echo "criu-trixie: run as root" >&2; exit 1; }
"$(dirname "$0")/crun-trixie.sh" "$dir" >/dev/null
if [ ! -x "$dir/usr/sbin/criu" ] || ! ls "$dir"/usr/lib/*/libcriu.so.2 >/dev/null 2>&1; then
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	chroot "$dir" apt-get update >&2
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y criu libcriu2 >&2
fi
chroot "$dir" /usr/sbin/criu --version | head -1
