#!/bin/bash
# tests/integration/run.sh [PATTERN]: run the integration tests (as root) against $WARD
# (default: build/ward; WARD=runc runs the same tests against runc).
# PATTERN is an extended regular expression matched against test names (test_ prefix optional).
# Prints "ok - NAME", "not ok - NAME: REASON" (+ the test's output), "skip - NAME: REASON",
# then exactly one summary line "N passed, M failed[, K skipped]". Exit 1 if M > 0.
# Env: IT_TIMEOUT (seconds per test, default 60), IT_VERBOSE=1 (print output of passing tests),
# IT_FILES (the test files, default tests/integration/t_*.sh; tests/e2e/run.sh sets it).
# A test file may define suite_teardown: it runs once after the file's tests (e.g. to stop a
# daemon the tests started lazily), its failure counts as one failed test.
set -u
IT_DIR=$(cd "$(dirname "$0")" && pwd)
. "$IT_DIR/lib.sh"

pattern=${1:-}
timeout_s=${IT_TIMEOUT:-60}

if [ "$(id -u)" != 0 ]; then
	echo "integration tests need root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if ! "$WARD" --version >/dev/null 2>&1 && [ ! -x "$WARD" ]; then
	echo "runtime under test not found or not executable: $WARD" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for tool in jq busybox perl timeout; do
	command -v "$tool" >/dev/null || { echo "missing tool: $tool (scripts/deps.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }
done

IT_RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ward-it.XXXXXX")
chmod 0755 "$IT_RUN_TMP" # user-namespaced containers must reach their rootfs
export IT_RUN_TMP
tests=()
files=()
passed=0 failed=0 skipped=0

# Suite teardowns (once per file that defines one and ran a test). Also run when the run is
# interrupted, so that a daemon a file started (containerd) and its mounts do not outlive it.
teardowns_done=0
run_teardowns() {
	teardowns_done=1
	local f
	for f in $(printf '%s\n' "${files[@]}" | uniq); do
		grep -q '^suite_teardown()' "$f" || continue
		if bash -c '. "$1"; . "$2"; T=$IT_RUN_TMP; suite_teardown' it "$IT_DIR/lib.sh" "$f" \
			>"$IT_RUN_TMP/teardown.log" 2>&1; then
			passed=$((passed + 1))
			echo "ok - teardown $(basename "$f")"
		else
			failed=$((failed + 1))
			echo "not ok - teardown $(basename "$f")"
			tail -n 30 "$IT_RUN_TMP/teardown.log" | sed 's/^/#   /'
		fi
	done
}
trap '[ "$teardowns_done" = 1 ] || run_teardowns; rm -rf "$IT_RUN_TMP"' EXIT
trap 'echo "# interrupted"; exit 130' INT TERM
echo "# runtime: $WARD ($("$WARD" --version 2>&1 | head -1))"

# Tests in file order.
for f in ${IT_FILES:-"$IT_DIR"/t_*.sh}; do
	while read -r name; do
		if [ -n "$pattern" ] && ! [[ $name =~ $pattern ]]; then continue; fi
		tests+=("$name")
		files+=("$f")
	done < <(grep -oE '^test_[A-Za-z0-9_]+\(\)' "$f" | tr -d '()')
done

host_devs() { stat -c '%n %U:%G %a %t:%T' /dev/null /dev/zero /dev/tty /dev/full 2>&1; }
host_mounts() { wc -l </proc/self/mountinfo; }
devs_before=$(host_devs)
mounts_before=$(host_mounts)
mountpoints_before=$(awk '{print $5}' /proc/self/mountinfo | sort)
# cgroups the tests' containers could leave behind (test ids look like c<pid>r<n>)
test_cgroups() { find /sys/fs/cgroup -maxdepth 5 -type d -regex '.*/c[0-9]+r[0-9]+' 2>/dev/null | sort; }
cgroups_before=$(test_cgroups)

for i in "${!tests[@]}"; do
	name=${tests[$i]} file=${files[$i]}
	log=$IT_RUN_TMP/$name.log
	rm -f "$IT_RUN_TMP/$name.reason" "$IT_RUN_TMP/$name.skip"
	start=$(date +%s%N)
	timeout -k 10 "$timeout_s" bash -c '. "$1"; . "$2"; it_run_one "$3"' it \
		"$IT_DIR/lib.sh" "$file" "$name" </dev/null >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	# Did this test change the host's devices?
	devs_now=$(host_devs)
	if [ "$rc" = 0 ] && [ "$devs_now" != "$devs_before" ]; then
		echo "host devices changed: $devs_now" >"$IT_RUN_TMP/$name.reason"
		rc=1
	fi
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		echo "ok - ${name#test_} (${ms} ms)"
		[ "${IT_VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$log"
	elif [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
		echo "skip - ${name#test_}: $(cat "$IT_RUN_TMP/$name.skip" 2>/dev/null)"
	else
		failed=$((failed + 1))
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			reason="timed out after ${timeout_s}s"
		else
			reason=$(cat "$IT_RUN_TMP/$name.reason" 2>/dev/null || echo "exit status $rc")
		fi
		echo "not ok - ${name#test_}: $reason"
		tail -n 60 "$log" | sed 's/^/#   /'
	fi
done

run_teardowns

# The host must look as it did before the run.
devs_after=$(host_devs)
mounts_after=$(host_mounts)
if [ -z "$pattern" ] || [[ host_untouched =~ $pattern ]]; then
	cgroups_after=$(test_cgroups)
	if [ "$devs_after" = "$devs_before" ] && [ "$mounts_after" = "$mounts_before" ] &&
		[ "$cgroups_after" = "$cgroups_before" ]; then
		passed=$((passed + 1))
		echo "ok - host_untouched"
	else
		failed=$((failed + 1))
		echo "not ok - host_untouched: devices, mount count ($mounts_before -> $mounts_after) or cgroups changed"
		diff <(echo "$cgroups_before") <(echo "$cgroups_after") | sed 's/^/#   /'
		diff <(echo "$devs_before") <(echo "$devs_after") | sed 's/^/#   /'
		diff <(echo "$mountpoints_before") <(awk '{print $5}' /proc/self/mountinfo | sort) | sed 's/^/#   /'
	fi
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ]
