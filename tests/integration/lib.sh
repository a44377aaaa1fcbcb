# Integration test harness for ward (bash). Sourced by run.sh and by each test process.
#
# A test is a shell function `test_<behaviour>` in tests/integration/t_*.sh. run.sh runs each
# one in its own bash process (under `timeout`) with:
#   T       a fresh temp dir (removed afterwards)        ROOT  a fresh --root dir ($T/root)
#   B       the default bundle dir ($T/bundle)            w     "$WARD --root $ROOT"
# and `set -eE`: any failing command fails the test. A cleanup trap always runs: every
# container under $ROOT is killed (SIGKILL) and force-deleted, deferred commands run, anything
# mounted under $T is unmounted, $T is removed.
#
# Helpers: mkbundle, cfg_set, cfg_get, set_args, newid, w, run_ctr, assert_eq, assert_contains,
# assert_not_contains, assert_fail, assert_no_leftovers, wait_for, defer, skip, ward_only,
# fail, is_runc.

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$IT_DIR/../.." && pwd)

# ---- the runtime under test -------------------------------------------------------------
: "${WARD:=$REPO/build/ward}"
case $WARD in
*/*) WARD=$(cd "$(dirname "$WARD")" && pwd)/$(basename "$WARD") ;;
*) WARD=$(command -v "$WARD" || echo "$WARD") ;;
esac
export WARD

is_runc() { "$WARD" --version 2>/dev/null | head -1 | grep -q '^runc version'; }

# ---- per-run state (run.sh sets IT_RUN_TMP) ---------------------------------------------
: "${IT_RUN_TMP:=${TMPDIR:-/tmp}/ward-it.$$}"

# Runtime invocation with the test's --root.
w() { "$WARD" --root "$ROOT" "$@"; }

# A container id unique within the run: each $(newid) is a new process, so $BASHPID differs.
newid() { echo "c${BASHPID}r$RANDOM"; }

# ---- failing, skipping --------------------------------------------------------------------
fail() {
	printf '%s\n' "$*" >"$IT_RUN_TMP/$IT_NAME.reason"
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	printf '%s\n' "$*" >"$IT_RUN_TMP/$IT_NAME.skip"
	exit 77
}

# Skip unless the runtime under test is ward (messages or features runc 1.1 does not have).
ward_only() {
	if is_runc; then skip "ward-only${1:+: $1}"; fi
	return 0
}

# Run a command later, at cleanup time (in reverse order of registration).
defer() { printf '%s\n' "$*" >>"$T/.defer"; }

# start_page_server DIR: `ward page-server` on a free loopback port, its output in $T/ps.out;
# sets PS_PID, PS_PORT (t_checkpoint.sh, t_vm_ck.sh)
start_page_server() {
	"$WARD" page-server --image-path "$1" --address 127.0.0.1:0 --port-file "$T/ps.port" \
		>"$T/ps.out" 2>&1 &
	PS_PID=$!
	defer "kill -9 $PS_PID 2>/dev/null || true"
	wait_for 5 test -s "$T/ps.port"
	PS_PORT=$(cat "$T/ps.port")
}

# ---- bundles -------------------------------------------------------------------------------
# mkbundle [DIR] [-- ARG...]: a bundle with its own copy of the busybox rootfs (copied from a
# per-run template made by scripts/mkbundle.sh). Sets B (and CFG) to it. Default DIR: $T/bundle.
mkbundle() {
	local dir=$T/bundle
	if [ $# -gt 0 ] && [ "$1" != -- ]; then dir=$1; shift; fi
	[ "${1:-}" = -- ] && shift
	local tpl=$IT_RUN_TMP/template
	if [ ! -e "$tpl/config.json" ]; then
		# Several tests can race here only if run in parallel; run.sh runs them in sequence.
		"$REPO/scripts/mkbundle.sh" "$tpl.$$" >/dev/null && mv "$tpl.$$" "$tpl" 2>/dev/null || rm -rf "$tpl.$$"
	fi
	mkdir -p "$dir"
	cp -a "$tpl/rootfs" "$dir/rootfs"
	cp "$tpl/config.json" "$dir/config.json"
	B=$dir
	CFG=$dir/config.json
	# runc puts a relative (or no) cgroupsPath below its own cgroup in every v1 hierarchy,
	# which on these hosts is the machine's memory:/process_api/...: keep it out of there.
	if is_runc; then cfg_set ".linux.cgroupsPath = \"/wardit/$(newid)\""; fi
	[ $# -gt 0 ] && set_args "$@"
	return 0
}

# cfg_set 'JQ FILTER' [JQ OPTION...]: edit $CFG in place.
cfg_set() {
	local filter=$1; shift
	jq "$filter" "$@" <"$CFG" >"$CFG.new" || { rm -f "$CFG.new"; fail "cfg_set: jq failed on: $filter"; }
	mv "$CFG.new" "$CFG"
}

cfg_get() { jq -r "$1" "$CFG"; }

# set_args ARG...: process.args
set_args() { cfg_set '.process.args = $ARGS.positional' --args -- "$@"; }

# ---- running ---------------------------------------------------------------------------------
# run_ctr [RUNTIME ARGS...] : `w run --bundle $B ARGS...` (default ARGS: a fresh id); never
# fails: sets OUT (stdout+stderr) and RC. stdin is /dev/null.
run_ctr() {
	[ $# -gt 0 ] || set -- "$(newid)"
	set +e
	OUT=$(w run --bundle "$B" "$@" </dev/null 2>&1)
	RC=$?
	set -e
	printf '[run %s -> %s]\n%s\n' "$*" "$RC" "$OUT" >&2
	return 0
}

# run_ok [RUNTIME ARGS...]: run_ctr, the container must exit 0. OUT holds its output.
run_ok() {
	run_ctr "$@"
	[ "$RC" = 0 ] || fail "run exited $RC, output: $OUT"
}

# sh_ok 'SHELL SCRIPT': run `sh -c SCRIPT` in the bundle, must exit 0; OUT = output.
sh_ok() { set_args sh -c "$1"; run_ok; }

# ---- assertions --------------------------------------------------------------------------------
assert_eq() { # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected [$1], got [$2]"
}

assert_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in *"$2"*) return 0 ;; esac
	fail "${3:-output} does not contain [$2]: [$1]"
}

assert_not_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in *"$2"*) fail "${3:-output} contains [$2]: [$1]" ;; esac
	return 0
}

assert_match() { # STRING ERE [WHAT]
	printf '%s' "$1" | grep -Eq -- "$2" || fail "${3:-value} [$1] does not match /$2/"
}

# assert_fail MESSAGE CMD...: CMD must exit 1 and print (stdout or stderr) a text containing
# MESSAGE (any message when MESSAGE is empty; a message is always required). Sets OUT.
assert_fail() {
	local msg=$1; shift
	set +e
	OUT=$("$@" </dev/null 2>&1)
	local rc=$?
	set -e
	printf '[expect failure: %s -> %s]\n%s\n' "$*" "$rc" "$OUT" >&2
	[ "$rc" = 1 ] || fail "expected exit 1 from [$*], got $rc; output: $OUT"
	[ -n "$OUT" ] || fail "[$*] failed without any message"
	[ -z "$msg" ] || assert_contains "$OUT" "$msg" "error message of [$*]"
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local t=$1; shift
	local end=$(($(date +%s%N) + t * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || fail "timed out after ${t}s waiting for: $*"
		sleep 0.05
	done
}

# Mount lines of the host's table that mention the run's temp dir.
it_mounts_under() { grep -F -- " $1" /proc/self/mountinfo | awk -v p="$1" 'index($5, p) == 1' || true; }

# Snapshot for assert_no_leftovers.
snapshot() { SNAP_MOUNTS=$(wc -l </proc/self/mountinfo); }

# assert_no_leftovers [ID]: nothing left by a failed command: no state entry under $ROOT
# (for ID, or none at all), no mount under $T, the host mount count as at `snapshot`, no
# process whose root is inside $B.
assert_no_leftovers() {
	if [ -n "${1:-}" ]; then
		[ ! -e "$ROOT/$1" ] || fail "state left behind: $ROOT/$1 ($(ls -A "$ROOT/$1" | tr '\n' ' '))"
		if w state "$1" >/dev/null 2>&1; then fail "container $1 still known to 'state'"; fi
	elif [ -d "$ROOT" ]; then
		local left
		# the micro-VM root disk cache (runtime/vm_disk.c) is the root's, not a container's
		left=$(ls -A "$ROOT" | grep -vx '@vm-disks' || true)
		[ -z "$left" ] || fail "state left under --root: $left"
	fi
	local m
	m=$(it_mounts_under "$T")
	[ -z "$m" ] || fail "mounts left under $T: $m"
	if [ -n "${SNAP_MOUNTS:-}" ]; then
		local now
		now=$(wc -l </proc/self/mountinfo)
		[ "$now" = "$SNAP_MOUNTS" ] || fail "host mount count changed: $SNAP_MOUNTS -> $now"
	fi
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case $r in "$B"/*) fail "process ${p#/proc/} left running with root $r" ;; esac
	done
	return 0
}

# start_fd_receiver copy|pidfd SOCKET OUT [SECONDS]: helpers/fd_recv.py in the background (the
# other end of --console-socket or --pidfd-socket; copy: for at most SECONDS, 10), killed when
# the test ends; returns once it listens.
start_fd_receiver() {
	command -v python3 >/dev/null || skip "no python3 for the fd receiver"
	python3 "$IT_DIR/helpers/fd_recv.py" "$1" "$2" "$3" ${4:+"$4"} &
	defer "kill $! 2>/dev/null"
	wait_for 5 test -e "$3.ready"
}

# state_field ID JQ: one field of `w state ID`.
state_field() { w state "$1" | jq -r "$2"; }

# ---- one test ------------------------------------------------------------------------------
it_cleanup() {
	local rc=$?
	set +e
	trap - ERR EXIT TERM INT
	# Containers: ask the runtime, and also every entry of the state dir.
	local ids
	ids=$( { w list -q 2>/dev/null; ls -A "$ROOT" 2>/dev/null; } | sort -u)
	for id in $ids; do
		w kill "$id" KILL >/dev/null 2>&1
		w delete --force "$id" >/dev/null 2>&1
	done
	if [ -f "$T/.defer" ]; then
		tac "$T/.defer" | while IFS= read -r c; do sh -c "$c" >/dev/null 2>&1; done
	fi
	local m
	m=$(it_mounts_under "$T")
	if [ -n "$m" ]; then
		if [ "$rc" = 0 ]; then
			printf '%s\n' "mounts left under the test dir after the test: $(echo "$m" | awk '{print $5}' | tr '\n' ' ')" >"$IT_RUN_TMP/$IT_NAME.reason"
			rc=1
		fi
		echo "$m" | awk '{print $5}' | sort -r | while read -r mp; do umount -l "$mp" 2>/dev/null; done
	fi
	# Processes still rooted in the test dir (a leaked container init): kill them.
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case $r in "$T"/*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
	rm -rf "$T"
	exit "$rc"
}

it_on_err() {
	local rc=$1 cmd=$2 line=$3
	[ -e "$IT_RUN_TMP/$IT_NAME.reason" ] || \
		printf '%s\n' "command failed (exit $rc) at line $line: $cmd" >"$IT_RUN_TMP/$IT_NAME.reason"
}

# it_run_one TEST_FUNCTION: the body of one test process.
it_run_one() {
	IT_NAME=$1
	T=$IT_RUN_TMP/$IT_NAME
	ROOT=$T/root
	B=$T/bundle
	CFG=$B/config.json
	rm -rf "$T"
	mkdir -p "$T" "$ROOT"
	trap it_cleanup EXIT
	trap 'exit 124' TERM INT
	set -eE -o pipefail
	trap 'it_on_err $? "$BASH_COMMAND" "$LINENO"' ERR
	"$IT_NAME"
	exit 0
}
