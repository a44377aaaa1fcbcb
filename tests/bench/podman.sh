#!/bin/bash
# tests/bench/podman.sh [N]: `podman run --rm IMAGE true` with ward and with runc as podman's
# OCI runtime, N times each (default 30), alternating, in one private podman (storage under a
# temp dir, the image imported from the busybox rootfs, no registry, no network).
# Prints per runtime:
#   total    median wall time of the whole `podman run --rm` (ms)
#   runtime  median time spent inside the runtime's own invocations per podman run (ms),
#            measured in a second series through a wrapper that timestamps each call
#   share    runtime / total of that series
# and the ratio of the totals (ward/runc). No assertion on times: this only reports.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-30}}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
command -v podman >/dev/null || { echo "bench: podman not installed (scripts/deps.sh)" >&2; exit 1; }
WARD=$PWD/build/ward
RUNC=$(command -v runc) || { echo "bench: runc not installed" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-bench-podman.XXXXXX)
cgparent=/$(basename "$tmp") # the containers' cgroups, removed at the end
chmod 0755 "$tmp"
cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
	grep -F " $tmp" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
	for c in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup"$cgparent"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$tmp"
}
trap 'exit 1' INT TERM
trap cleanup EXIT

# Runtimes by name: the plain binaries, and the same behind a timing wrapper.
for rt in ward runc; do
	bin=$WARD
	[ $rt = runc ] && bin=$RUNC
	cat >"$tmp/timed-$rt" <<EOF
#!/bin/sh
s=\$(date +%s%N)
"$bin" "\$@"
rc=\$?
echo \$((\$(date +%s%N) - s)) >>"$tmp/calls-$rt"
exit \$rc
EOF
	chmod +x "$tmp/timed-$rt"
done
scripts/podman-conf.sh "ward=$WARD" "runc=$RUNC" "timed-ward=$tmp/timed-ward" \
	"timed-runc=$tmp/timed-runc" >"$tmp/containers.conf"
pm() {
	CONTAINERS_CONF=$tmp/containers.conf podman --root "$tmp/storage" --runroot "$tmp/run" \
		--tmpdir "$tmp/tmp" --storage-driver overlay "$@"
}
scripts/mkbundle.sh "$tmp/bundle" >/dev/null
tar -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
pm import "$tmp/rootfs.tar" localhost/ward-bench:1 >/dev/null 2>&1 || { echo "bench: podman import failed" >&2; exit 1; }

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) m = 0; else if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f\n", m}'; }

one_run() { # RUNTIME-NAME: ns of one podman run --rm
	local s
	s=$(date +%s%N)
	pm --runtime "$1" run --rm --cgroup-parent "$cgparent" localhost/ward-bench:1 true >/dev/null 2>"$tmp/err" ||
		{ echo "bench: podman run with $1 failed: $(cat "$tmp/err")" >&2; exit 1; }
	echo $(($(date +%s%N) - s))
}

# Warm up (page cache, podman's database).
one_run ward >/dev/null
one_run runc >/dev/null
: >"$tmp/total-ward"
: >"$tmp/total-runc"
for _ in $(seq "$N"); do
	one_run ward >>"$tmp/total-ward"
	one_run runc >>"$tmp/total-runc"
done
# The timed series: per podman run, the sum of the runtime's calls (create, start, delete,
# state...) and that run's total.
for rt in ward runc; do
	: >"$tmp/share-$rt"
	: >"$tmp/rt-$rt"
done
for _ in $(seq "$N"); do
	for rt in ward runc; do
		: >"$tmp/calls-$rt"
		t=$(one_run timed-$rt)
		# conmon's `delete` may land just after podman returns: wait for it briefly.
		sleep 0.05
		r=$(awk '{s += $1} END {print s + 0}' "$tmp/calls-$rt")
		echo "$r" >>"$tmp/rt-$rt"
		echo "$r $t" | awk '{printf "%.4f\n", $1 / $2}' >>"$tmp/share-$rt"
	done
done

echo "podman run --rm IMAGE true, $N runs each (podman $(podman --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR == 1 {print $3}'))"
printf '%-6s %10s %12s %8s\n' runtime "total ms" "runtime ms" share
for rt in ward runc; do
	tot=$(median <"$tmp/total-$rt")
	inrt=$(median <"$tmp/rt-$rt")
	share=$(median <"$tmp/share-$rt")
	awk -v rt="$rt" -v t="$tot" -v r="$inrt" -v s="$share" \
		'BEGIN {printf "%-6s %10.1f %12.1f %7.1f%%\n", rt, t / 1e6, r / 1e6, s * 100}'
	eval "tot_$rt=$tot"
done
awk -v a="$tot_ward" -v b="$tot_runc" 'BEGIN {printf "ratio ward/runc (total): %.2f\n", a / b}'
