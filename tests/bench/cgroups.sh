#!/bin/bash
# tests/bench/cgroups.sh [N]: what cgroups cost per container, ward side by side with runc (and
# crun 1.21 from the trixie chroot when tests/bench/crun-trixie.sh has prepared it).
#   plain     median ms of `run true` with no linux.resources (the cgroup is still created
#             and removed: that is the per-container setup + teardown)
#   limited   the same with memory, pids, cpu shares/quota and device rules set
#   apply     limited - plain: the cost of writing the limits
#   min mem   the smallest memory limit (KiB, binary search 64 KiB..64 MiB) under which
#             `run true` still succeeds
# Reports only; no assertion on times.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-50}}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-bench-cg.XXXXXX)
chmod 0755 "$tmp"
declare -A RT_BIN
cleanup() {
	for rt in "${!RT_BIN[@]}"; do
		for d in "$tmp/root-$rt"/*; do
			[ -e "$d" ] && "${RT_BIN[$rt]}" --root "$tmp/root-$rt" delete --force "$(basename "$d")" >/dev/null 2>&1
		done
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
scripts/mkbundle.sh "$tmp/plain" true >/dev/null
mkdir -p "$tmp/limited" "$tmp/mem"
# one rootfs for all bundles (runc refuses a symlinked rootfs: an absolute root.path instead)
jq --arg r "$tmp/plain/rootfs" '.root.path = $r' "$tmp/plain/config.json" >"$tmp/base.json"
jq '.linux.resources = {
	"memory": {"limit": 268435456},
	"pids": {"limit": 100},
	"cpu": {"shares": 512, "quota": 50000, "period": 100000},
	"devices": [{"allow": false, "access": "rwm"}]}' "$tmp/base.json" >"$tmp/limited/config.json"

RT_BIN[ward]=$PWD/build/ward
RT_BIN[runc]=$(command -v runc || echo runc)
RT_BIN[crun]=$(command -v crun || echo crun)
runtimes=(ward runc crun) # crun 1.8 refuses hybrid hosts: reported as "-"
trixie_dir=${CRUN_TRIXIE_DIR:-/var/cache/ward-bench/trixie}
if [ -e "$trixie_dir/.ward-bench-ready" ] && wrapper=$(tests/bench/crun-trixie.sh "$trixie_dir" 2>/dev/null); then
	RT_BIN[crun-trixie]=$wrapper
	runtimes+=(crun-trixie)
fi

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", a[(NR + 1) / 2] / 1e6; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2e6}'; }

# time_runs RT BUNDLE: N timed `run`s, prints the median ms ("-" if the runtime fails)
time_runs() {
	local rt=$1 bundle=$2 bin=${RT_BIN[$1]} root=$tmp/root-$1 out=$tmp/t-$1-$(basename "$2")
	mkdir -p "$root"
	: >"$out"
	"$bin" --root "$root" run --bundle "$bundle" "trial" </dev/null >/dev/null 2>&1 || { echo "-"; return; }
	for i in $(seq "$N"); do
		local t0 t1
		t0=$(date +%s%N)
		"$bin" --root "$root" run --bundle "$bundle" "r$i" </dev/null >/dev/null 2>&1
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$out"
	done
	median <"$out"
}

# starts RT KIB: does `run true` succeed under a memory limit of KIB KiB?
starts() {
	local rt=$1 kib=$2 root=$tmp/root-$1
	jq ".linux.resources = {\"memory\": {\"limit\": $((kib * 1024))}}" "$tmp/base.json" >"$tmp/mem/config.json"
	"${RT_BIN[$rt]}" --root "$root" run --bundle "$tmp/mem" "m$kib" </dev/null >/dev/null 2>&1
	local rc=$?
	"${RT_BIN[$rt]}" --root "$root" delete --force "m$kib" >/dev/null 2>&1
	return $rc
}

min_mem() {
	local rt=$1 lo=64 hi=65536
	starts "$rt" "$hi" || { echo ">$hi"; return; }
	starts "$rt" "$lo" && { echo "<=$lo"; return; }
	while [ $((hi - lo)) -gt 16 ]; do
		local mid=$(((lo + hi) / 2))
		if starts "$rt" "$mid"; then hi=$mid; else lo=$mid; fi
	done
	echo "$hi"
}

echo "# cgroups: $(stat -f -c %T /sys/fs/cgroup) at /sys/fs/cgroup; $N runs each"
printf '%-14s %10s %10s %10s %14s\n' runtime "plain ms" "limited ms" "apply ms" "min mem KiB"
declare -A PLAIN LIMITED MINMEM
for rt in "${runtimes[@]}"; do
	PLAIN[$rt]=$(time_runs "$rt" "$tmp/plain")
	LIMITED[$rt]=$(time_runs "$rt" "$tmp/limited")
	MINMEM[$rt]=$(min_mem "$rt")
	apply=$(awk -v a="${LIMITED[$rt]}" -v b="${PLAIN[$rt]}" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f", a - b }')
	printf '%-14s %10s %10s %10s %14s\n' "$rt" "${PLAIN[$rt]}" "${LIMITED[$rt]}" "$apply" "${MINMEM[$rt]}"
done
for rt in "${runtimes[@]}"; do
	[ "$rt" = ward ] && continue
	awk -v a="${LIMITED[ward]}" -v b="${LIMITED[$rt]}" -v r="$rt" \
		'BEGIN { if (a != "-" && b != "-") printf "ratio ward/%s (limited): %.2f\n", r, a / b }'
done
