#!/bin/bash
# tests/bench/checkpoint.sh [N]: checkpoint/restore timings of ward, side by side with CRIU 4.1
# (through trixie's crun from the chroot of tests/bench/crun-trixie.sh, criu added by
# tests/bench/criu-trixie.sh) when that chroot has criu. N runs each (default 3), medians:
#   idle      busybox `sh -c 'while :; do sleep 1; done'`
#   256m, 1g  tests/checkpoint/progs/dirtier with 256 MiB / 1 GiB touched, no writes after
#   checkpoint time (wall time of `checkpoint`), restore time (`restore -d`), image size
# and, for dirtier 256 MiB writing a 4 MiB working set every 20 ms: the time the container is
# frozen by a plain checkpoint and by `ward migrate` (pre-copy rounds, frozen final round; its
# phases, from --debug, are echoed as comments).
# Images go to /tmp (BENCH_IMG_DIR=/dev/shm for tmpfs). No assertion on times: this only reports
# ward's and CRIU's medians and their ratio (ward / CRIU; the issue's target is <= 0.5). Runs of
# the two alternate, so load from elsewhere hits both alike. Cleans up containers, roots and
# images on exit.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-5}}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
WARD=$PWD/build/ward
prog=$PWD/build/tests/checkpoint/progs/dirtier
[ -x "$WARD" ] && [ -x "$prog" ] || { echo "bench: make first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-bench-ck.XXXXXX)
chmod 0755 "$tmp"
imgdir=$(mktemp -d "${BENCH_IMG_DIR:-/tmp}/ward-bench-img.XXXXXX")
CRUN=
# reap ID: what a runtime's delete left of container ID (a CRIU-restored tree that crun's
# delete did not reach was seen still running, in crun's default cgroup /ID): kill and rmdir.
reap() {
	local c p
	for c in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$c" ] || continue
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	sleep 0.1
	for c in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

cleanup() {
	local r d
	for r in "$tmp"/root*; do
		[ -d "$r" ] || continue
		for d in "$r"/*; do
			[ -e "$d" ] || continue
			"$WARD" --root "$r" delete --force "$(basename "$d")" >/dev/null 2>&1
			[ -n "$CRUN" ] && "$CRUN" --root "$r" delete --force "$(basename "$d")" >/dev/null 2>&1
			reap "$(basename "$d")"
		done
	done
	rm -rf "$tmp" "$imgdir"
}
trap cleanup EXIT
trixie=${CRUN_TRIXIE_DIR:-/var/cache/ward-bench/trixie}
if [ -x "$trixie/usr/sbin/criu" ] && tests/bench/criu-trixie.sh "$trixie" >/dev/null 2>&1 &&
	wrapper=$(tests/bench/crun-trixie.sh "$trixie" 2>/dev/null); then
	CRUN=$wrapper
fi

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# bundle NAME ARGS...: a busybox bundle with dirtier copied in, writable rootfs, no terminal
bundle() {
	local b=$tmp/$1; shift
	scripts/mkbundle.sh "$b" "$@" >/dev/null
	cp "$prog" "$b/rootfs/dirtier"
	jq '.root.readonly = false | .process.terminal = false' "$b/config.json" >"$b/c.json" &&
		mv "$b/c.json" "$b/config.json"
	echo "$b"
}

# one RUNTIME-BIN BUNDLE READY-LINES: run, checkpoint, restore; prints "ck_ms rs_ms bytes".
# stdio is /dev/null: criu cannot dump a host file outside the container's mounts.
one() {
	local rt=$1 b=$2 ready=$3 id=bench$RANDOM root=$tmp/root-$RANDOM img=$imgdir/img-$RANDOM t0 t1 t2 t3
	rm -f "$b/rootfs/count"
	"$rt" --root "$root" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1 || { echo "# $rt run failed" >&2; return 1; }
	for _ in $(seq 400); do [ "$(wc -l 2>/dev/null <"$b/rootfs/count" || echo 0)" -ge "$ready" ] && break; sleep 0.05; done
	t0=$(now)
	"$rt" --root "$root" checkpoint --image-path "$img" "$id" 2>"$tmp/err" || { sed 's/^/# /' "$tmp/err" >&2; return 1; }
	t1=$(now)
	t2=$(now)
	"$rt" --root "$root" restore -d --image-path "$img" --bundle "$b" "$id" </dev/null >/dev/null 2>"$tmp/err" || { sed 's/^/# /' "$tmp/err" >&2; return 1; }
	t3=$(now)
	echo "$(ms "$t0" "$t1") $(ms "$t2" "$t3") $(du -sb "$img" | cut -f1)"
	"$rt" --root "$root" delete --force "$id" >/dev/null 2>&1
	reap "$id"
	rm -rf "$img" "$root"
}

col() { cut -d' ' -f"$1" "$2" | median; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f\n", b / 1048576}'; }
ratio() { [ -n "$2" ] && [ "$2" -gt 0 ] && awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f\n", a / b}' || echo -; }

row() { # NAME BUNDLE READY: N runs of ward and of criu, alternating
	local name=$1 b=$2 ready=$3 w=$tmp/row-w c=$tmp/row-c
	: >"$w"
	: >"$c"
	for _ in $(seq "$N"); do
		one "$WARD" "$b" "$ready" >>"$w" || { echo "ward $name: failed"; return; }
		[ -n "$CRUN" ] && { one "$CRUN" "$b" "$ready" >>"$c" || { echo "criu $name: failed"; CRUN=; }; }
	done
	printf '%-5s ward checkpoint %5s ms restore %5s ms image %7.1f MiB' "$name" \
		"$(col 1 "$w")" "$(col 2 "$w")" "$(mib "$(col 3 "$w")")"
	if [ -s "$c" ]; then
		printf ' | criu %5s ms %5s ms %7.1f MiB | ratio %s / %s' \
			"$(col 1 "$c")" "$(col 2 "$c")" "$(mib "$(col 3 "$c")")" \
			"$(ratio "$(col 1 "$w")" "$(col 1 "$c")")" "$(ratio "$(col 2 "$w")" "$(col 2 "$c")")"
	fi
	echo
}

idle=$(bundle idle sh -c 'while :; do echo x >>/count; sleep 1; done')
m256=$(bundle m256 /dirtier 256 0 /count)
m1g=$(bundle m1g /dirtier 1024 0 /count)
echo "# ward $(git rev-parse --short HEAD), N=$N (medians), images on $(df --output=fstype "$imgdir" | tail -1) $(dirname "$imgdir")"
[ -n "$CRUN" ] && echo "# criu: $(chroot "$trixie" /usr/sbin/criu --version | head -1) through trixie's crun (network-lock skip)"
row idle "$idle" 1
row 256m "$m256" 2
row 1g "$m1g" 2
[ -z "$CRUN" ] && echo "# CRIU: no criu in $trixie (tests/bench/criu-trixie.sh installs it): ward only"

# frozen time under a steady write rate: plain checkpoint vs migrate's pre-copy
busy=$(bundle busy /dirtier 256 4 /count)
for _ in $(seq "$N"); do
	id=bench$RANDOM root=$tmp/rootA
	"$WARD" --root "$root" run -d --bundle "$busy" "$id" </dev/null >/dev/null
	sleep 1
	"$WARD" --root "$root" --debug checkpoint --image-path "$imgdir/busy-img" "$id" 2>&1 |
		sed -n 's/.*(stopped \([0-9]*\) ms).*/\1/p' >>"$tmp/plain"
	"$WARD" --root "$root" delete --force "$id" >/dev/null 2>&1; rm -rf "$imgdir/busy-img"
	rm -f "$busy/rootfs/count"
	"$WARD" --root "$root" run -d --bundle "$busy" "$id" </dev/null >/dev/null
	sleep 1
	"$WARD" --root "$root" --debug migrate --to-root "$tmp/rootB" "$id" >"$tmp/mig" 2>&1 || cat "$tmp/mig"
	sed 's/^/# /' "$tmp/mig"
	sed -n 's/.*final round:.*frozen \([0-9]*\) ms.*/\1/p' "$tmp/mig" >>"$tmp/pre"
	"$WARD" --root "$tmp/rootB" delete --force "$id" >/dev/null 2>&1
	rm -f "$busy/rootfs/count"
done
echo "ward 256 MiB writing 4 MiB/20 ms: frozen $(median <"$tmp/plain") ms plain checkpoint, $(median <"$tmp/pre") ms with pre-copy (migrate)"
