#!/bin/bash
# tests/bench/lifecycle.sh [N]: side-by-side lifecycle timings of ward, runc and crun.
# For each runtime, N times (default 100) each:
#   run     `RUNTIME run` of a bundle whose process is busybox `true`
#   cycle   create, start, wait for the exit, delete
# and print the median in ms per runtime and the ratios ward/runc and ward/crun.
# A runtime that cannot run here (crun refuses hybrid cgroups) is detected with one trial run
# and reported with its message. No assertion on times: this only reports.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-100}}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-bench.XXXXXX)
chmod 0755 "$tmp"
trap 'for r in "$tmp"/root-*; do [ -d "$r" ] || continue; for d in "$r"/*; do [ -e "$d" ] || continue; "${RT_BIN[$(basename "$r" | sed s/root-//)]:-true}" --root "$r" delete --force "$(basename "$d")" >/dev/null 2>&1; done; done; rm -rf "$tmp"' EXIT
scripts/mkbundle.sh "$tmp/bundle" true >/dev/null

declare -A RT_BIN
RT_BIN[ward]=$PWD/build/ward
RT_BIN[runc]=$(command -v runc || echo runc)
RT_BIN[crun]=$(command -v crun || echo crun)
runtimes=(ward runc crun)

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", a[(NR + 1) / 2] / 1e6; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2e6}'; }

declare -A RUN_MS CYCLE_MS OK
for rt in "${runtimes[@]}"; do
	bin=${RT_BIN[$rt]}
	root=$tmp/root-$rt
	mkdir -p "$root"
	# one trial run
	if ! msg=$("$bin" --root "$root" run --bundle "$tmp/bundle" "trial-$rt" </dev/null 2>&1); then
		echo "$rt: cannot run here ($(echo "$msg" | tail -1 | cut -c1-200))"
		"$bin" --root "$root" delete --force "trial-$rt" >/dev/null 2>&1
		OK[$rt]=0
		continue
	fi
	OK[$rt]=1
	: >"$tmp/run-$rt" ; : >"$tmp/cycle-$rt"
	fails=0
	for i in $(seq "$N"); do
		t0=$(date +%s%N)
		"$bin" --root "$root" run --bundle "$tmp/bundle" "r$i" </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$tmp/run-$rt"
	done
	for i in $(seq "$N"); do
		t0=$(date +%s%N)
		"$bin" --root "$root" create --bundle "$tmp/bundle" "c$i" </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
		"$bin" --root "$root" start "c$i" >/dev/null 2>&1 || fails=$((fails + 1))
		while [ "$("$bin" --root "$root" state "c$i" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" = running ]; do :; done
		"$bin" --root "$root" delete "c$i" >/dev/null 2>&1 || "$bin" --root "$root" delete --force "c$i" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$tmp/cycle-$rt"
	done
	[ "$fails" = 0 ] || echo "$rt: $fails commands failed during the timing loops"
	RUN_MS[$rt]=$(median <"$tmp/run-$rt")
	CYCLE_MS[$rt]=$(median <"$tmp/cycle-$rt")
done

ratio() { # A B
	if [ "${OK[$1]}" = 1 ] && [ "${OK[$2]}" = 1 ]; then
		awk -v a="$3" -v b="$4" 'BEGIN {printf "%.2f", a / b}'
	else
		echo "-"
	fi
}

echo
echo "medians over $N iterations (ms):"
printf '%-8s %12s %24s\n' runtime "run true" "create+start+delete"
for rt in "${runtimes[@]}"; do
	[ "${OK[$rt]}" = 1 ] || { printf '%-8s %12s %24s\n' "$rt" "-" "-"; continue; }
	printf '%-8s %12s %24s\n' "$rt" "${RUN_MS[$rt]}" "${CYCLE_MS[$rt]}"
done
for other in runc crun; do
	printf 'ward/%-4s run: %s  cycle: %s\n' "$other" \
		"$(ratio ward "$other" "${RUN_MS[ward]:-0}" "${RUN_MS[$other]:-1}")" \
		"$(ratio ward "$other" "${CYCLE_MS[ward]:-0}" "${CYCLE_MS[$other]:-1}")"
done
