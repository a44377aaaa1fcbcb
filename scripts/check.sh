#!/bin/sh
# scripts/check.sh: every test lane, one after the other; the last line is the grand total
#   N passed, M failed
# Lanes: build (make), unit (make unit), asan (make asan), integration (as root, against
# build/ward), e2e (podman and containerd driving build/ward, tests/e2e/run.sh, as root),
# checkpoint (as root: tests/checkpoint/run.sh, the checkpoint engine), vm (tests/vm/run.sh,
# when present and executable). Each lane prints its own "N passed, M failed" line; a lane
# that fails without one (a crash, a build error, a timeout)
# counts as one failure. Exit 1 when anything failed.
cd "$(dirname "$0")/.." || exit 1
total_p=0 total_f=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# lane NAME TIMEOUT_SECONDS CMD...
lane() {
	name=$1 limit=$2
	shift 2
	echo "== $name: $*"
	start=$(date +%s)
	timeout -k 30 "$limit" "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
	else
		p=0 f=0
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		# failed without reporting a failure: the lane itself broke
		[ "$rc" = 124 ] && echo "== $name: timed out after ${limit}s" || echo "== $name: exited $rc"
		f=1
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	echo "== $name: $p passed, $f failed ($(($(date +%s) - start)) s)"
}

lane build 900 make -j"$(nproc)"
lane unit 600 make unit
lane asan 1200 make asan
if [ "$(id -u)" = 0 ]; then
	lane integration 1200 env WARD="$PWD/build/ward" tests/integration/run.sh
	lane e2e 900 env WARD="$PWD/build/ward" tests/e2e/run.sh
	lane checkpoint 600 tests/checkpoint/run.sh
else
	for name in integration e2e checkpoint; do
		echo "== $name: needs root (counted as one failure)"
		total_f=$((total_f + 1))
	done
fi
if [ -x tests/vm/run.sh ]; then
	lane vm 2100 tests/vm/run.sh
fi

echo "$total_p passed, $total_f failed"
[ "$total_f" = 0 ]
