# podman 4.3 (through conmon) with ward as its OCI runtime: one test per behaviour of issue 5.
# Run by tests/e2e/run.sh in the integration harness (tests/integration/lib.sh).
#
# Each run gets its own podman: storage, runroot and tmpdir under $IT_RUN_TMP/podman, a
# containers.conf (scripts/podman-conf.sh) naming the runtime under test (ward, or runc when
# WARD=runc), and one image imported from the busybox rootfs of scripts/mkbundle.sh (`podman
# import`, no registry). `pm ARGS` runs that podman; `$PM` is the same as a script (for `defer`).
#
# Host quirk (ENVIRONMENT.md): no CAP_SYS_RESOURCE, so podman's default ulimits (nofile and
# nproc 1048576) cannot be set here; containers.conf gives ones under the host's hard limits.
# conmon reads a runtime's --log-format json log only for runtimes in runtime_supports_json,
# so ward is listed there, as runc and crun are by default.

PM_DIR=$IT_RUN_TMP/podman
PM=$PM_DIR/pm
PM_IMAGE=localhost/ward-e2e:1
PM_RT=$(basename "$WARD")
# The run's cgroup parent (podman's default, libpod_parent, is shared with other podman users
# of the host, so a container cgroup left in it would go unnoticed): ward-it.XXXXXX -> wardit-pm-XXXXXX
PM_CG=wardit-pm-${IT_RUN_TMP##*.}

pm() { "$PM" "$@"; }

# pm_setup: the run's podman (once per run; later calls return at once).
pm_setup() {
	[ -x "$PM" ] && return 0
	command -v podman >/dev/null || fail "podman not installed (scripts/deps.sh)"
	command -v conmon >/dev/null || fail "conmon not installed (scripts/deps.sh)"
	mkdir -p "$PM_DIR/tmp"
	# The cgroups podman's cgroupfs manager makes: removed by suite_teardown if new.
	local c
	for c in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
		[ -d "$c" ] && echo "$c"
	done >"$PM_DIR/cgroups.before" || true
	"$REPO/scripts/podman-conf.sh" "$PM_RT=$WARD" >"$PM_DIR/containers.conf"
	cat >"$PM.new" <<EOF
#!/bin/sh
# conmon writes a file "oom" into its working directory (podman's) when a container is
# OOM-killed: keep it out of the caller's
cd $PM_DIR || exit 125
case \$1 in run | create) c=\$1; shift; set -- "\$c" --cgroup-parent /$PM_CG "\$@" ;; esac
CONTAINERS_CONF=$PM_DIR/containers.conf exec podman --root $PM_DIR/storage \\
	--runroot $PM_DIR/run --tmpdir $PM_DIR/tmp --storage-driver overlay "\$@"
EOF
	chmod +x "$PM.new"
	local tpl=$PM_DIR/bundle
	"$REPO/scripts/mkbundle.sh" "$tpl" >/dev/null
	tar -C "$tpl/rootfs" -cf "$PM_DIR/rootfs.tar" .
	"$PM.new" import "$PM_DIR/rootfs.tar" "$PM_IMAGE" >/dev/null 2>"$PM_DIR/import.err" ||
		fail "podman import failed: $(cat "$PM_DIR/import.err")"
	rm -rf "$tpl" "$PM_DIR/rootfs.tar"
	mv "$PM.new" "$PM"
}

# suite_teardown: every container and image of the run's podman, its mounts and new cgroups.
suite_teardown() {
	[ -d "$PM_DIR" ] || return 0
	local rc=0
	if [ -x "$PM" ]; then
		pm rm -a -f -t 0 >/dev/null || rc=1
		pm rmi -a -f >/dev/null || rc=1
		pm system reset -f >/dev/null 2>&1 || true
	fi
	grep -F " $PM_DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m"; done
	local c
	for c in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
		[ -d "$c" ] || continue
		grep -qx "$c" "$PM_DIR/cgroups.before" 2>/dev/null && continue
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$c" ] || { echo "cgroup left: $c"; rc=1; }
	done
	for c in /sys/fs/cgroup/*/"$PM_CG" /sys/fs/cgroup/"$PM_CG"; do
		[ -d "$c" ] || continue
		# podman keeps <parent>/conmon for good; a container's libpod-<id> left is a failure
		if find "$c" -mindepth 1 -type d -name 'libpod-*' | grep . >&2; then
			echo "container cgroups left (above)" >&2
			rc=1
		fi
		find "$c" -depth -type d -exec rmdir {} + || rc=1
	done
	rm -rf "$PM_DIR"
	return $rc
}

# pm_start NAME [RUN ARGS...] -- CMD...: a detached container (removed at cleanup).
pm_start() {
	local name=$1; shift
	pm_setup
	defer "$PM rm -f -t 0 $name"
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	pm run -d --name "$name" "${args[@]}" "$PM_IMAGE" "$@" >/dev/null
}

# pm_run [RUN ARGS...] -- CMD...: `podman run --rm`, never fails: sets OUT and RC.
pm_run() {
	pm_setup
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	set +e
	OUT=$(pm run --rm "${args[@]}" "$PM_IMAGE" "$@" </dev/null 2>&1)
	RC=$?
	set -e
	printf '[podman run %s -> %s]\n%s\n' "${args[*]} -- $*" "$RC" "$OUT" >&2
}

pm_pid() { pm inspect "$1" --format '{{.State.Pid}}'; }
# pm_wait_log NAME TEXT: until the container's log has TEXT (e.g. a trap is in place).
pm_wait_log() { wait_for 10 sh -c "$PM logs $1 | grep -q -- '$2'"; }
pm_field() { pm inspect "$1" --format "$2"; }

# pm_cgroup_file NAME CONTROLLER FILE: the path of FILE in the container's cgroup (v1
# hierarchy of CONTROLLER, or the v2 cgroup).
pm_cgroup_file() {
	local pid rel
	pid=$(pm_pid "$1")
	rel=$(awk -F: -v c="$2" '$2 ~ "(^|,)" c "(,|$)" {print $3}' "/proc/$pid/cgroup")
	if [ -n "$rel" ]; then
		echo "/sys/fs/cgroup/$2$rel/$3"
	else
		rel=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
		echo "/sys/fs/cgroup$rel/$3"
	fi
}

# in_tty CMD: run CMD (a shell command line) on a new pseudo-terminal; stdin feeds it.
in_tty() { script -qfec "$1" /dev/null; }

# ---- run, exit codes, terminals ---------------------------------------------------------------
test_pm_run_foreground_exit_code() {
	pm_run -- sh -c 'echo out-marker; echo err-marker >&2; exit 3'
	assert_eq 3 "$RC" "podman run exit status"
	assert_contains "$OUT" out-marker
	assert_contains "$OUT" err-marker
}

test_pm_run_detached_is_ward_container() {
	local n id pid
	n=$(newid)
	pm_start "$n" -- sh -c 'echo started-marker; exec sleep 1000'
	id=$(pm_field "$n" '{{.Id}}')
	pid=$(pm_pid "$n")
	[ "$pid" -gt 0 ] || fail "no pid for $n"
	# The runtime under test knows it, running, with podman's pid.
	assert_eq "running $pid" "$("$WARD" state "$id" | jq -r '"\(.status) \(.pid)"')" "runtime state"
	[ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "container shares the host pid namespace"
	pm_wait_log "$n" started-marker
}

test_pm_run_interactive_terminal() {
	pm_setup
	set +e
	OUT=$(printf 'tty\necho typed-$((6*7))\nexit 5\n' | in_tty "$PM run -it --rm $PM_IMAGE sh" 2>&1)
	RC=$?
	set -e
	echo "$OUT" >&2
	assert_eq 5 "$RC" "exit status through the terminal"
	assert_match "$OUT" '/dev/pts/[0-9]+' "tty inside"
	assert_contains "$OUT" typed-42
}

# ---- exec, logs, ps, top, stats, inspect ----------------------------------------------------------
test_pm_exec() {
	local n
	n=$(newid)
	pm_start "$n" -- sleep 1000
	set +e
	OUT=$(pm exec -e X=from-exec "$n" sh -c 'echo "in $X $(cat /proc/1/cmdline | tr "\0" " ")"; exit 4' 2>&1)
	RC=$?
	set -e
	assert_eq 4 "$RC" "exec exit status"
	assert_contains "$OUT" "in from-exec sleep 1000"
	set +e
	OUT=$(pm exec "$n" tty 2>&1)
	RC=$?
	set -e
	assert_eq 1 "$RC" "tty without -t"
	assert_contains "$OUT" "not a tty"
}

test_pm_exec_tty() {
	local n
	n=$(newid)
	pm_start "$n" -- sleep 1000
	OUT=$(in_tty "$PM exec -it $n sh -c 'tty; stty size'" </dev/null 2>&1)
	echo "$OUT" >&2
	assert_match "$OUT" '/dev/pts/[0-9]+' "exec -t tty"
}

test_pm_logs_and_ps() {
	local n
	n=$(newid)
	pm_start "$n" -- sh -c 'for i in 1 2 3; do echo line-$i; done; exec sleep 1000'
	pm_wait_log "$n" line-3
	assert_eq "line-1 line-2 line-3" "$(pm logs "$n" | tr '\n' ' ' | sed 's/ $//')" "podman logs"
	assert_match "$(pm ps --filter name="$n" --format '{{.Names}} {{.Status}}')" "^$n Up" "podman ps"
	pm stop -t 0 "$n" >/dev/null
	assert_match "$(pm ps -a --filter name="$n" --format '{{.Status}}')" "^Exited \(137\)" "podman ps -a after stop"
}

test_pm_top() {
	local n
	n=$(newid)
	pm_start "$n" -- sh -c 'sleep 1000 & exec sleep 999'
	wait_for 5 sh -c "$PM top $n | grep -q 'sleep 1000'"
	OUT=$(pm top "$n" pid args)
	assert_contains "$OUT" "sleep 999"
	assert_contains "$OUT" "sleep 1000"
}

test_pm_stats() {
	local n
	n=$(newid)
	pm_start "$n" -- sh -c 'sleep 1000 & sleep 1000 & exec sleep 999'
	wait_for 5 sh -c "[ \$($PM top $n pid | wc -l) = 4 ]"
	OUT=$(pm stats --no-stream --format json "$n")
	echo "$OUT" >&2
	assert_eq 3 "$(echo "$OUT" | jq -r '.[0].pids')" "stats pids"
	local mem
	mem=$(echo "$OUT" | jq -r '.[0].mem_usage')
	assert_match "$mem" '^[1-9][0-9.]*[kMG]?B / ' "stats memory usage"
}

test_pm_inspect_names_runtime() {
	local n
	n=$(newid)
	pm_start "$n" -- sleep 1000
	assert_eq "$PM_RT" "$(pm_field "$n" '{{.OCIRuntime}}')" "inspect .OCIRuntime"
	assert_eq running "$(pm_field "$n" '{{.State.Status}}')"
}

# ---- stop, kill, rm, pause -----------------------------------------------------------------------
test_pm_stop_sigterm() {
	local n start ms
	n=$(newid)
	# pid 1 ignores a SIGTERM that comes before its trap: stop only once the trap is set
	pm_start "$n" -- sh -c 'trap "echo got-term; exit 0" TERM; echo trap-set; while :; do sleep 0.1; done'
	pm_wait_log "$n" trap-set
	start=$(date +%s%N)
	pm stop -t 20 "$n" >/dev/null
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -lt 10000 ] || fail "stop took ${ms} ms: SIGTERM did not reach the container"
	assert_eq 0 "$(pm_field "$n" '{{.State.ExitCode}}')" "exit code after SIGTERM handler"
	assert_contains "$(pm logs "$n")" got-term
}

test_pm_stop_timeout_sigkill() {
	local n start ms
	n=$(newid)
	# PID 1 without a handler ignores SIGTERM: stop must fall back to SIGKILL.
	pm_start "$n" -- sleep 1000
	start=$(date +%s%N)
	pm stop -t 1 "$n" >/dev/null 2>&1
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -ge 1000 ] || fail "stop returned after ${ms} ms, before the 1 s timeout"
	assert_eq 137 "$(pm_field "$n" '{{.State.ExitCode}}')" "exit code after SIGKILL"
}

test_pm_kill() {
	local n
	n=$(newid)
	pm_start "$n" -- sh -c 'trap "exit 42" USR1; echo trap-set; while :; do sleep 0.1; done'
	pm_wait_log "$n" trap-set
	pm kill -s USR1 "$n" >/dev/null
	wait_for 5 sh -c "[ \"\$($PM inspect $n --format '{{.State.Status}}')\" = exited ]"
	assert_eq 42 "$(pm_field "$n" '{{.State.ExitCode}}')" "exit code after USR1"
	n=$(newid)
	pm_start "$n" -- sleep 1000
	pm kill "$n" >/dev/null
	wait_for 5 sh -c "[ \"\$($PM inspect $n --format '{{.State.Status}}')\" = exited ]"
	assert_eq 137 "$(pm_field "$n" '{{.State.ExitCode}}')" "exit code after kill"
}

test_pm_rm_leaves_nothing() {
	local n id pid cg
	n=$(newid)
	pm_start "$n" -- sleep 1000
	id=$(pm_field "$n" '{{.Id}}')
	pid=$(pm_pid "$n")
	cg=$(dirname "$(pm_cgroup_file "$n" pids pids.max)")
	[ -d "$cg" ] || fail "container cgroup $cg not found"
	pm rm -f -t 0 "$n" >/dev/null
	[ -z "$(pm ps -a -q --filter name="$n")" ] || fail "podman still lists $n"
	[ ! -d /proc/$pid ] || fail "container process $pid still running"
	[ ! -d "$cg" ] || fail "cgroup $cg left behind"
	assert_fail "does not exist" "$WARD" state "$id"
}

test_pm_pause_unpause() {
	local n a b state
	n=$(newid)
	pm_start "$n" -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c.new; mv /tmp/c.new /tmp/count; done'
	wait_for 5 sh -c "$PM exec $n cat /tmp/count"
	pm pause "$n" >/dev/null
	assert_eq paused "$(pm_field "$n" '{{.State.Status}}')"
	state=$(pm_cgroup_file "$n" freezer freezer.state)
	if [ -f "$state" ]; then
		assert_eq FROZEN "$(cat "$state")" "freezer.state"
	else
		assert_contains "$(cat "$(pm_cgroup_file "$n" x cgroup.events)")" "frozen 1"
	fi
	local pid
	pid=$(pm_pid "$n")
	a=$(cat "/proc/$pid/root/tmp/count")
	sleep 0.3
	b=$(cat "/proc/$pid/root/tmp/count")
	assert_eq "$a" "$b" "counter while paused"
	pm unpause "$n" >/dev/null
	assert_eq running "$(pm_field "$n" '{{.State.Status}}')"
	wait_for 10 sh -c "[ \$(cat /proc/$pid/root/tmp/count) -gt $a ]"
}

# ---- resources --------------------------------------------------------------------------------
test_pm_memory_limit() {
	local n f
	n=$(newid)
	pm_start "$n" --memory 64m -- sleep 1000
	f=$(pm_cgroup_file "$n" memory memory.limit_in_bytes)
	[ -f "$f" ] || f=$(pm_cgroup_file "$n" x memory.max)
	assert_eq 67108864 "$(cat "$f")" "$f"
	# A hog beyond the limit is OOM-killed.
	pm_run --memory 32m --memory-swap 32m -- sh -c 'x=a; while :; do x=$x$x; done'
	assert_eq 137 "$RC" "exit status of a memory hog under --memory 32m"
}

test_pm_cpus() {
	local n f
	n=$(newid)
	pm_start "$n" --cpus 0.5 -- sleep 1000
	f=$(pm_cgroup_file "$n" cpu cpu.cfs_quota_us)
	if [ -f "$f" ]; then
		assert_eq 50000 "$(cat "$f")" "$f"
		assert_eq 100000 "$(cat "$(dirname "$f")/cpu.cfs_period_us")" cpu.cfs_period_us
	else
		assert_eq "50000 100000" "$(cat "$(pm_cgroup_file "$n" x cpu.max)")" cpu.max
	fi
}

test_pm_pids_limit() {
	local n f
	n=$(newid)
	pm_start "$n" --pids-limit 20 -- sleep 1000
	f=$(pm_cgroup_file "$n" pids pids.max)
	assert_eq 20 "$(cat "$f")" "$f"
	set +e
	OUT=$(pm exec "$n" sh -c 'for i in $(seq 40); do sleep 5 & done 2>&1; echo started' 2>&1)
	set -e
	echo "$OUT" >&2
	assert_contains "$OUT" "Resource temporarily unavailable" "fork beyond --pids-limit"
}

# ---- security and process options ------------------------------------------------------------------
test_pm_read_only() {
	pm_run --read-only -- sh -c 'touch /tmp/ok && echo tmp-ok; touch /x'
	[ "$RC" != 0 ] || fail "writing / succeeded under --read-only"
	assert_contains "$OUT" "Read-only file system"
	assert_contains "$OUT" tmp-ok "--read-only keeps /tmp writable (podman's read-only-tmpfs)"
}

test_pm_cap_drop() {
	pm_run --cap-drop all -- sh -c 'grep ^CapEff /proc/self/status'
	assert_eq 0 "$RC"
	assert_contains "$OUT" "CapEff:	0000000000000000"
	pm_run --cap-drop CHOWN -- sh -c 'chown 1:1 /tmp'
	[ "$RC" != 0 ] || fail "chown worked after --cap-drop CHOWN"
	assert_contains "$OUT" "Operation not permitted"
	pm_run -- sh -c 'chown 1:1 /tmp && echo chown-ok'
	assert_contains "$OUT" chown-ok "chown with the default capabilities"
}

test_pm_seccomp_profile() {
	cat >"$T/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
	pm_run --security-opt seccomp="$T/profile.json" -- sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d'
	[ "$RC" != 0 ] || fail "mkdir worked under a profile that denies it"
	assert_contains "$OUT" "Seccomp:	2"
	assert_contains "$OUT" "Operation not permitted"
	pm_run -- sh -c 'mkdir /tmp/d && echo mkdir-ok'
	assert_contains "$OUT" mkdir-ok "mkdir under the default profile"
}

test_pm_user_workdir_env() {
	pm_run --user 1000:1001 --workdir /tmp -e FOO=bar -- sh -c 'echo "$(id -u) $(id -g) $(pwd) $FOO"'
	assert_eq 0 "$RC"
	assert_eq "1000 1001 /tmp bar" "$OUT" "id, cwd and env"
}

test_pm_bind_mount() {
	mkdir -p "$T/vol"
	echo from-host >"$T/vol/in"
	pm_run -v "$T/vol:/data" -- sh -c 'cat /data/in; echo from-ctr >/data/out'
	assert_eq 0 "$RC"
	assert_contains "$OUT" from-host
	assert_eq from-ctr "$(cat "$T/vol/out")" "file written through the bind mount"
	pm_run -v "$T/vol:/data:ro" -- sh -c 'echo x >/data/out2'
	[ "$RC" != 0 ] || fail "write through a :ro bind mount succeeded"
	assert_contains "$OUT" "Read-only file system"
}

test_pm_tmpfs() {
	pm_run --tmpfs /scratch:size=1m -- sh -c 'grep " /scratch " /proc/mounts; echo x >/scratch/f && echo write-ok'
	assert_eq 0 "$RC"
	assert_match "$OUT" '^tmpfs /scratch tmpfs rw,.*size=1024k' "tmpfs mount"
	assert_contains "$OUT" write-ok
}

# ---- failures surface -------------------------------------------------------------------------
test_pm_fail_bad_binary_shows_runtime_message() {
	pm_run -- /no/such/binary
	assert_eq 127 "$RC" "exit status for a missing executable"
	assert_contains "$OUT" "$PM_RT: " "podman's error names the runtime"
	assert_contains "$OUT" '"/no/such/binary"' "the runtime's message"
	assert_contains "$(echo "$OUT" | tr A-Z a-z)" "no such file or directory" "the runtime's reason"
}

test_pm_fail_bad_cwd_shows_runtime_message() {
	mkdir -p "$T/vol"
	touch "$T/vol/file"
	# podman leaves a workdir inside a volume to the runtime, which fails on a file.
	pm_run -v "$T/vol:/data" --workdir /data/file -- pwd
	[ "$RC" != 0 ] || fail "a file as working directory was accepted"
	assert_contains "$OUT" "$PM_RT: "
	assert_contains "$OUT" /data/file "the runtime's message"
	assert_contains "$(echo "$OUT" | tr A-Z a-z)" "not a directory"
}

test_pm_fail_exec_missing_binary() {
	local n
	n=$(newid)
	pm_start "$n" -- sleep 1000
	set +e
	OUT=$(pm exec "$n" /no/such/binary 2>&1)
	RC=$?
	set -e
	echo "$OUT" >&2
	assert_eq 127 "$RC" "podman exec of a missing executable"
	assert_contains "$OUT" /no/such/binary
	assert_eq running "$(pm_field "$n" '{{.State.Status}}')" "container after the failed exec"
}
