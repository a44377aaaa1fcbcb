#!/bin/bash
# tests/bench/lifecycle.sh [N]: side-by-side lifecycle timings of ward, runc and crun.
# For each runtime, N times (default 100) each:
#   run     `RUNTIME run` of a bundle whose process is busybox `true`
#   cycle   create, start, wait for the exit, delete
# and print the median in ms per runtime and the ratios ward/runc and ward/crun.
# A runtime that cannot run here (crun refuses hybrid cgroups) is detected with one trial run
# and reported with its message. No assertion on times: this only reports.
#
# crun from Debian trixie (1.21) does run here, from a chroot through a wrapper made by
# tests/bench/crun-trixie.sh (private mount namespace, bind mounts, pivot_root, exec crun). It is
# added as runtime "crun-VERSION" when BENCH_CRUN_TRIXIE=1 (prepares the chroot if needed: a
# debootstrap, a few minutes, network) or when the chroot already exists (CRUN_TRIXIE_DIR,
# default /var/cache/ward-bench/trixie). The wrapper's own cost is measured alongside (the
# same wrapper execing /bin/true, WRAP_ONLY=1) and its median is subtracted once per crun
# invocation; both the raw and the corrected medians are printed, ratios use the corrected.
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
declare -A WRAPPED
trixie_dir=${CRUN_TRIXIE_DIR:-/var/cache/ward-bench/trixie}
if [ "${BENCH_CRUN_TRIXIE:-0}" = 1 ] || [ -e "$trixie_dir/.ward-bench-ready" ]; then
	if wrapper=$(tests/bench/crun-trixie.sh "$trixie_dir") && [ -x "$wrapper" ]; then
		v=$("$wrapper" --version 2>/dev/null | awk 'NR == 1 {print $3}')
		rt=crun-${v:-trixie}
		RT_BIN[$rt]=$wrapper
		WRAPPED[$rt]=1
		runtimes+=("$rt")
	else
		echo "crun-trixie: could not prepare the trixie chroot (see above); skipped"
	fi
fi

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", a[(NR + 1) / 2] / 1e6; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2e6}'; }

declare -A RUN_MS CYCLE_MS OK RAW_RUN_MS RAW_CYCLE_MS OVER_MS CALLS
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
	: >"$tmp/run-$rt" ; : >"$tmp/cycle-$rt" ; : >"$tmp/over-$rt" ; : >"$tmp/calls-$rt"
	wrapped=${WRAPPED[$rt]:-0}
	fails=0
	for i in $(seq "$N"); do
		if [ "$wrapped" = 1 ]; then
			# the wrapper alone, interleaved with the real runs so both see the same load
			t0=$(date +%s%N)
			WRAP_ONLY=1 "$bin" --root "$root" run --bundle "$tmp/bundle" "o$i" </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
			t1=$(date +%s%N)
			echo $((t1 - t0)) >>"$tmp/over-$rt"
		fi
		t0=$(date +%s%N)
		"$bin" --root "$root" run --bundle "$tmp/bundle" "r$i" </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$tmp/run-$rt"
	done
	for i in $(seq "$N"); do
		calls=4 # create, start, first state, delete
		t0=$(date +%s%N)
		"$bin" --root "$root" create --bundle "$tmp/bundle" "c$i" </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
		"$bin" --root "$root" start "c$i" >/dev/null 2>&1 || fails=$((fails + 1))
		while [ "$("$bin" --root "$root" state "c$i" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" = running ]; do calls=$((calls + 1)); done
		"$bin" --root "$root" delete "c$i" >/dev/null 2>&1 || { calls=$((calls + 1)); "$bin" --root "$root" delete --force "c$i" >/dev/null 2>&1; }
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$tmp/cycle-$rt"
		echo "$calls" >>"$tmp/calls-$rt"
	done
	[ "$fails" = 0 ] || echo "$rt: $fails commands failed during the timing loops"
	RUN_MS[$rt]=$(median <"$tmp/run-$rt")
	CYCLE_MS[$rt]=$(median <"$tmp/cycle-$rt")
	if [ "$wrapped" = 1 ]; then
		# corrected = raw - (runtime invocations) x (median wrapper overhead), per iteration
		over_ns=$(sort -n "$tmp/over-$rt" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
		OVER_MS[$rt]=$(awk -v o="$over_ns" 'BEGIN {printf "%.2f", o / 1e6}')
		CALLS[$rt]=$(sort -n "$tmp/calls-$rt" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
		RAW_RUN_MS[$rt]=${RUN_MS[$rt]}
		RAW_CYCLE_MS[$rt]=${CYCLE_MS[$rt]}
		RUN_MS[$rt]=$(awk -v o="$over_ns" '{print $1 - o}' "$tmp/run-$rt" | median)
		CYCLE_MS[$rt]=$(paste "$tmp/cycle-$rt" "$tmp/calls-$rt" | awk -v o="$over_ns" '{print $1 - $2 * o}' | median)
	fi
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
printf '%-24s %12s %24s\n' runtime "run true" "create+start+delete"
for rt in "${runtimes[@]}"; do
	[ "${OK[$rt]}" = 1 ] || { printf '%-24s %12s %24s\n' "$rt" "-" "-"; continue; }
	if [ "${WRAPPED[$rt]:-0}" = 1 ]; then
		printf '%-24s %12s %24s\n' "$rt raw" "${RAW_RUN_MS[$rt]}" "${RAW_CYCLE_MS[$rt]}"
		printf '%-24s %12s %24s\n' "  wrapper alone" "${OVER_MS[$rt]}" "x ${CALLS[$rt]} calls"
		printf '%-24s %12s %24s\n' "$rt - wrapper" "${RUN_MS[$rt]}" "${CYCLE_MS[$rt]}"
	else
		printf '%-24s %12s %24s\n' "$rt" "${RUN_MS[$rt]}" "${CYCLE_MS[$rt]}"
	fi
done
for other in "${runtimes[@]}"; do
	[ "$other" = ward ] && continue
	printf 'ward/%-10s run: %s  cycle: %s\n' "$other" \
		"$(ratio ward "$other" "${RUN_MS[ward]:-0}" "${RUN_MS[$other]:-1}")" \
		"$(ratio ward "$other" "${CYCLE_MS[ward]:-0}" "${CYCLE_MS[$other]:-1}")"
done
for rt in "${runtimes[@]}"; do
	[ "${WRAPPED[$rt]:-0}" = 1 ] && [ "${OK[$rt]}" = 1 ] || continue
	echo
	echo "$rt is Debian trixie's crun, run through the wrapper from tests/bench/crun-trixie.sh"
	echo "  (unshare -m, bind mounts, pivot_root into the chroot $trixie_dir, exec crun)."
	echo "  raw:            timed through the wrapper, as ward and runc are timed directly."
	echo "  wrapper alone:  median of the same wrapper execing /bin/true instead of crun (WRAP_ONLY=1),"
	echo "                  interleaved with the raw runs."
	echo "  - wrapper:      raw minus the wrapper median once per crun invocation (run: 1; cycle:"
	echo "                  create, start, each state poll, delete). An estimate: crun still runs with"
	echo "                  the chroot's (trixie) libraries. ward/$rt uses this number."
done
