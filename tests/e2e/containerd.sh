# containerd 1.6 (ctr + its runc v2 shim) driving the runtime under test, unchanged: the shim
# runs "$WARD --root R --log L --log-format json create/start/state/kill/exec/ps/pause/..."
# exactly as it runs runc. Run by tests/e2e/run.sh (the integration harness); WARD=runc runs
# the same tests against runc, the reference.
#
# One containerd daemon per run, started lazily by the first test (like mkbundle's template)
# and stopped by suite_teardown: private socket, root, state and runtime --root under
# $IT_RUN_TMP/ctrd, the CRI plugin and every plugin the tests do not need disabled, one
# namespace of its own (so containerd's cgroups are /sys/fs/cgroup/*/<namespace>/<id>), one
# image: the busybox rootfs of scripts/mkbundle.sh as a hand-made OCI image.

CTRD=$IT_RUN_TMP/ctrd
CTRD_SOCK=$CTRD/containerd.sock
# ward-it.XXXXXX -> wardit-XXXXXX: one namespace per run
CTRD_NS=wardit-${IT_RUN_TMP##*.}
CTRD_IMAGE=docker.io/wardtest/busybox:e2e
CTRD_RUNC_ROOT=$CTRD/runtime-root

# ctr against the private daemon and namespace.
c() { ctr -a "$CTRD_SOCK" -n "$CTRD_NS" "$@"; }

ctrd_alive() { [ -S "$CTRD_SOCK" ] && c version >/dev/null 2>&1; }

ctrd_write_config() {
	cat >"$CTRD/config.toml" <<-EOF
	version = 2
	root = "$CTRD/root"
	state = "$CTRD/state"
	disabled_plugins = [
		"io.containerd.grpc.v1.cri",
		"io.containerd.internal.v1.opt",
		"io.containerd.internal.v1.tracing",
		"io.containerd.tracing.processor.v1.otlp",
		"io.containerd.snapshotter.v1.aufs",
		"io.containerd.snapshotter.v1.btrfs",
		"io.containerd.snapshotter.v1.devmapper",
		"io.containerd.snapshotter.v1.zfs",
	]

	[grpc]
	  address = "$CTRD_SOCK"

	[ttrpc]
	  address = "$CTRD_SOCK.ttrpc"

	[debug]
	  address = "$CTRD/debug.sock"
	  level = "debug"

	[metrics]
	  address = ""
	EOF
}

# The busybox rootfs as an OCI image layout tarball (one uncompressed layer), imported once.
ctrd_import_image() {
	local d=$CTRD/image
	rm -rf "$d"
	mkdir -p "$d/oci/blobs/sha256"
	"$REPO/scripts/mkbundle.sh" "$d/bundle" >/dev/null
	tar -C "$d/bundle/rootfs" --numeric-owner --sort=name -cf "$d/layer.tar" .
	local layer lsize
	layer=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	lsize=$(stat -c %s "$d/layer.tar")
	mv "$d/layer.tar" "$d/oci/blobs/sha256/$layer"
	jq -cn --arg diff "sha256:$layer" '{
		architecture: "amd64", os: "linux",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			Cmd: ["sh"], WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]}}' >"$d/config.json"
	local cfg csize
	cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	csize=$(stat -c %s "$d/config.json")
	mv "$d/config.json" "$d/oci/blobs/sha256/$cfg"
	jq -cn --arg cfg "sha256:$cfg" --argjson csize "$csize" \
		--arg layer "sha256:$layer" --argjson lsize "$lsize" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cfg, size: $csize},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $layer, size: $lsize}]}' \
		>"$d/manifest.json"
	local man msize
	man=$(sha256sum "$d/manifest.json" | cut -d' ' -f1)
	msize=$(stat -c %s "$d/manifest.json")
	mv "$d/manifest.json" "$d/oci/blobs/sha256/$man"
	jq -cn --arg man "sha256:$man" --argjson msize "$msize" --arg name "$CTRD_IMAGE" '{
		schemaVersion: 2,
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
			digest: $man, size: $msize,
			platform: {architecture: "amd64", os: "linux"},
			annotations: {"io.containerd.image.name": $name,
				"org.opencontainers.image.ref.name": "e2e"}}]}' >"$d/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci/oci-layout"
	tar -C "$d/oci" -cf "$d/image.tar" oci-layout index.json blobs
	c image import "$d/image.tar" >&2
	rm -rf "$d"
	c image ls -q | grep -xF "$CTRD_IMAGE" >/dev/null || fail "image $CTRD_IMAGE not imported"
}

# ctrd_up: the run's daemon (started once) with the image imported.
ctrd_up() {
	command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null ||
		skip "containerd, ctr or containerd-shim-runc-v2 not installed (scripts/deps.sh)"
	if ! ctrd_alive; then
		[ ! -e "$CTRD/containerd.pid" ] || fail "the run's containerd died: $(tail -n 20 "$CTRD/containerd.log")"
		mkdir -p "$CTRD" "$CTRD_RUNC_ROOT" "$CTRD/fifo"
		# the v2 shims' sockets go to /run/containerd/s whatever the config says: remember
		# whether this run made /run/containerd, to remove it (if empty) at the end
		[ -e /run/containerd ] || touch "$CTRD/made-run-containerd"
		ctrd_write_config
		# its own session: the daemon outlives this test's process group
		setsid containerd --config "$CTRD/config.toml" </dev/null >"$CTRD/containerd.log" 2>&1 &
		echo $! >"$CTRD/containerd.pid"
		(wait_for 20 ctrd_alive) ||
			fail "containerd did not come up: $(tail -n 20 "$CTRD/containerd.log")"
	fi
	c image ls -q | grep -xF "$CTRD_IMAGE" >/dev/null || ctrd_import_image
}

# ctr run with the runtime under test as the shim's runc binary (options.BinaryName) and the
# run's runtime root (options.Root; the shim adds /<namespace>). Options go as --opt=value.
ctrd_run() { # [CTR RUN OPTIONS...] ID [CMD...] (the image is inserted before ID)
	local opts=()
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do opts+=("$1"); shift; done
	c run --runc-binary "$WARD" --runc-root "$CTRD_RUNC_ROOT" --fifo-dir "$CTRD/fifo" \
		"${opts[@]}" "$CTRD_IMAGE" "$@"
}

# ctr task exec with the run's fifo dir.
ctrd_exec() { c task exec --fifo-dir "$CTRD/fifo" "$@"; }

# ctrd_in_tty CTR ARGS...: ctr against the run's daemon on a new pseudo-terminal (script(1);
# ctr -t wants one); OUT = what it printed (CRs and NULs dropped), RC = its exit status.
ctrd_in_tty() {
	local cmd
	cmd=$(printf '%q ' ctr -a "$CTRD_SOCK" -n "$CTRD_NS" "$@")
	set +e
	script -qfec "$cmd" /dev/null </dev/null >"$T/tty.out" 2>&1
	RC=$?
	set -e
	OUT=$(tr -d '\r\0' <"$T/tty.out")
	echo "$OUT" >&2
}

# ctrd_new: a fresh container id (c<pid>r<n>: the harness's host_untouched check sees its
# cgroups if they are left); at cleanup its task is killed and deleted, the container and its
# snapshot removed, and containerd's warnings about it are added to the test's log.
ctrd_new() {
	local id ctr_="ctr -a '$CTRD_SOCK' -n '$CTRD_NS'"
	id=$(newid)
	defer "grep -F '$id' '$CTRD/containerd.log' | grep -E 'level=(warning|error)' >>'$IT_RUN_TMP/$IT_NAME.log'"
	defer "$ctr_ container delete '$id'"
	defer "$ctr_ task delete --force '$id'"
	defer "$ctr_ task kill -s SIGKILL '$id'"
	echo "$id"
}

# The runtime under test with the shim's --root (options.Root + /<namespace>).
ctrd_rt() { "$WARD" --root "$CTRD_RUNC_ROOT/$CTRD_NS" "$@"; }

ctrd_status() { c task ls | awk -v id="$1" '$1 == id { print $3 }'; }
ctrd_pid() { c task ls | awk -v id="$1" '$1 == id { print $2 }'; }
ctrd_is() { [ "$(ctrd_status "$1")" = "$2" ]; } # ID STATUS

# ctrd_detached ID [CTR RUN OPTIONS... --] CMD...: ctr run -d, then the task is RUNNING;
# PID = its init's host pid.
ctrd_detached() {
	local id=$1 opts=()
	shift
	if [ "${1#-}" != "$1" ]; then
		while [ "$1" != -- ]; do opts+=("$1"); shift; done
		shift
	fi
	ctrd_run -d "${opts[@]}" "$id" "$@" </dev/null
	wait_for 10 ctrd_is "$id" RUNNING
	PID=$(ctrd_pid "$id")
	assert_match "$PID" '^[1-9][0-9]*$' "pid in ctr task ls"
}

# ctrd_cgroup PID CONTROLLER: the directory of PID's cgroup in CONTROLLER's v1 hierarchy, or
# its cgroup v2 directory when CONTROLLER has no v1 hierarchy.
ctrd_cgroup() {
	local line
	line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup" || true)
	if [ -n "$line" ]; then
		echo "/sys/fs/cgroup/$2${line#*:*:}"
		return 0
	fi
	line=$(grep '^0::' "/proc/$1/cgroup")
	if [ -d /sys/fs/cgroup/unified ]; then echo "/sys/fs/cgroup/unified${line#0::}"; else echo "/sys/fs/cgroup${line#0::}"; fi
}

# ctrd_fails_with ID TEXT [CTR RUN OPTIONS...] -- CMD...: ctr run fails, and what it prints is
# the runtime's own message as the shim read it from the runtime's --log file (json lines):
# "OCI runtime create failed: <msg>", not go-runc's "did not terminate successfully: exit
# status 1: <stderr>" that the shim falls back to when the log has no error line.
ctrd_fails_with() {
	local id=$1 text=$2 out rc opts=()
	shift 2
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	set +e
	out=$(ctrd_run --rm "${opts[@]}" "$id" "$@" </dev/null 2>&1)
	rc=$?
	set -e
	OUT_CTR=$out
	printf '[ctr run -> %s]\n%s\n' "$rc" "$out" >&2
	[ "$rc" != 0 ] || fail "ctr run succeeded: $out"
	assert_contains "$out" "OCI runtime create failed: " "ctr run's error"
	assert_not_contains "$out" "did not terminate successfully" "ctr run's error"
	assert_contains "$(echo "$out" | tr A-Z a-z)" "$text" "ctr run's error (lower case)"
	[ -z "$(c container ls -q | grep -xF "$id")" ] || fail "container $id left after a failed ctr run --rm"
	[ ! -e "$CTRD_RUNC_ROOT/$CTRD_NS/$id" ] || fail "runtime state left: $CTRD_RUNC_ROOT/$CTRD_NS/$id"
}

# ---- the tests ---------------------------------------------------------------------------------

# Foreground ctr run: the container's stdout and stderr reach ctr's, its exit status is ctr's.
test_ctrd_run_foreground_output_and_exit_status() {
	ctrd_up
	local id out rc
	id=$(ctrd_new)
	set +e
	out=$(ctrd_run "$id" sh -c 'echo out-$((6 * 7)); echo err-line >&2; exit 7' </dev/null 2>"$T/err")
	rc=$?
	set -e
	assert_eq 7 "$rc" "ctr run's exit status"
	assert_eq out-42 "$out" "stdout"
	assert_contains "$(cat "$T/err")" err-line "stderr"
}

# ctr run -t (through script(1)): the init gets a pty (create --console-socket: the shim gets
# its master), its output reaches ctr's terminal, its exit status is ctr's.
test_ctrd_run_tty_gets_a_pty() {
	ctrd_up
	local id
	id=$(ctrd_new)
	ctrd_in_tty run --runc-binary "$WARD" --runc-root "$CTRD_RUNC_ROOT" --fifo-dir "$CTRD/fifo" \
		-t "$CTRD_IMAGE" "$id" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; exit 4'
	assert_eq 4 "$RC" "ctr run -t's exit status"
	assert_match "$OUT" '(^|[^0-9a-z])/dev/pts/0' "tty of the init"
	assert_contains "$OUT" stdio-is-tty "stdin and stdout of the init"
}

# ctr run -d: RUNNING in ctr task ls; the pid is a process in new namespaces, in containerd's
# cgroup (/<namespace>/<id>), and the runtime (its state under the shim's --root) agrees.
test_ctrd_run_detached_task_runs_in_its_namespaces_and_cgroup() {
	ctrd_up
	local id ns
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	assert_eq "sleep 600 " "$(tr '\0' ' ' <"/proc/$PID/cmdline")" "the task's cmdline"
	for ns in pid mnt uts ipc net; do
		[ "$(readlink "/proc/$PID/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] ||
			fail "the task shares the host's $ns namespace"
	done
	local cg
	cg=$(ctrd_cgroup "$PID" pids)
	assert_match "$cg" "/$CTRD_NS/$id\$" "the task's cgroup"
	grep -qx "$PID" "$cg/cgroup.procs" || fail "$PID not in $cg/cgroup.procs"
	assert_eq running "$(ctrd_rt state "$id" | jq -r .status)" "the runtime's state"
	assert_eq "$PID" "$(ctrd_rt state "$id" | jq -r .pid)" "the runtime's pid"
}

# ctr task exec without a tty: the process runs in the container (its pid 1 is the task's
# init), its output reaches ctr, its exit status is ctr's, it has no tty.
test_ctrd_exec_output_and_exit_status() {
	ctrd_up
	local id out rc
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	set +e
	out=$(ctrd_exec --exec-id e1 "$id" sh -c 'echo exec-out; tr "\0" " " </proc/1/cmdline; echo; tty; exit 3' </dev/null 2>&1)
	rc=$?
	set -e
	echo "$out" >&2
	assert_eq 3 "$rc" "ctr task exec's exit status"
	assert_eq exec-out "$(echo "$out" | sed -n 1p)" "exec output"
	assert_eq "sleep 600 " "$(echo "$out" | sed -n 2p)" "pid 1 seen by the exec'd process"
	assert_eq "not a tty" "$(echo "$out" | sed -n 3p)" "tty without -t"
}

# ctr task exec --user: the exec'd process runs as that uid (the runtime's exec --process
# carries process.user).
test_ctrd_exec_as_another_user() {
	ctrd_up
	local id out
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	out=$(ctrd_exec --exec-id u1 --user 1000 "$id" sh -c 'id -u; id -g' </dev/null)
	assert_eq "1000 1000" "$(echo $out)" "uid and gid of the exec'd process"
}

# ctr task exec -t (driven through script(1), ctr wants a terminal): the process has a pty
# (the shim gets its master over the --console-socket) and its exit status is ctr's.
test_ctrd_exec_tty_gets_a_pty() {
	ctrd_up
	local id
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	ctrd_in_tty task exec --fifo-dir "$CTRD/fifo" -t --exec-id e2 "$id" \
		sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; exit 5'
	assert_eq 5 "$RC" "ctr task exec -t's exit status"
	assert_match "$OUT" '(^|[^0-9a-z])/dev/pts/[0-9]+' "tty inside"
	assert_contains "$OUT" stdio-is-tty "stdin and stdout of the exec'd process"
}

# ctrd_foreground ID CMD...: ctr run in the background of the test (foreground for ctr: it
# exits with the task's status); waits until the task runs and has written /tmp/ready.
ctrd_foreground() {
	local id=$1; shift
	ctrd_run "$id" "$@" </dev/null >"$T/fg.out" 2>&1 &
	FG=$!
	defer "kill $FG 2>/dev/null"
	wait_for 10 ctrd_is "$id" RUNNING
	PID=$(ctrd_pid "$id")
	wait_for 10 test -e "/proc/$PID/root/tmp/ready"
}

# ctr task kill (default SIGTERM) reaches the init, which exits from its handler: ctr run
# exits with that status, the task stops.
test_ctrd_kill_default_sigterm_reaches_the_init() {
	ctrd_up
	local id rc
	id=$(ctrd_new)
	ctrd_foreground "$id" sh -c 'trap "echo got-TERM; exit 3" TERM; touch /tmp/ready; while :; do sleep 0.1; done'
	c task kill "$id"
	set +e
	wait "$FG"
	rc=$?
	set -e
	assert_eq 3 "$rc" "ctr run's exit status after SIGTERM"
	assert_contains "$(cat "$T/fg.out")" got-TERM "the init's output"
}

# ctr task kill -s SIGKILL: the task stops with 128+9; nothing of it runs any more.
test_ctrd_kill_sigkill_stops_the_task_with_137() {
	ctrd_up
	local id rc
	id=$(ctrd_new)
	ctrd_foreground "$id" sh -c 'trap "" TERM; touch /tmp/ready; exec sleep 600'
	c task kill -s SIGKILL "$id"
	set +e
	wait "$FG"
	rc=$?
	set -e
	assert_eq 137 "$rc" "ctr run's exit status after SIGKILL"
	[ ! -d "/proc/$PID" ] || [ "$(awk '{print $3}' "/proc/$PID/stat")" = Z ] || fail "init $PID still alive"
}

# ctr task kill --all (the runtime's kill --all): every process of the container gets the
# signal; without --all only the init does (and the init, pid 1 without a handler, ignores it).
test_ctrd_kill_all_reaches_every_process() {
	ctrd_up
	local id cg
	id=$(ctrd_new)
	ctrd_detached "$id" sh -c 'sleep 600 & sleep 601 & touch /tmp/ready; while :; do sleep 0.2; done'
	wait_for 10 test -e "/proc/$PID/root/tmp/ready"
	cg=$(ctrd_cgroup "$PID" pids)
	sleepers() { for p in $(cat "$cg/cgroup.procs"); do { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null; echo; done | grep -c '^sleep 60[01] ' || true; }
	assert_eq 2 "$(sleepers)" "sleep 600/601 before kill"
	c task kill -s SIGTERM "$id"
	sleep 0.5
	assert_eq 2 "$(sleepers)" "sleep 600/601 after kill without --all"
	c task kill --all -s SIGTERM "$id"
	wait_for 10 sh -c "[ \$(for p in \$(cat '$cg/cgroup.procs'); do tr '\\0' ' ' </proc/\$p/cmdline; echo; done | grep -c '^sleep 60[01] ') = 0 ]"
	assert_eq RUNNING "$(ctrd_status "$id")" "the init (it ignores SIGTERM) after kill --all"
}

# ctr run --memory-limit: linux.resources.memory.limit reaches the container's cgroup, and
# ctr task metrics reports it.
test_ctrd_run_memory_limit_reaches_the_cgroup() {
	ctrd_up
	local id dir m
	id=$(ctrd_new)
	ctrd_detached "$id" --memory-limit=67108864 -- sleep 600
	dir=$(ctrd_cgroup "$PID" memory)
	if [ -e "$dir/memory.limit_in_bytes" ]; then
		assert_eq 67108864 "$(cat "$dir/memory.limit_in_bytes")" "$dir/memory.limit_in_bytes"
	else
		assert_eq 67108864 "$(cat "$dir/memory.max")" "$dir/memory.max"
	fi
	m=$(c task metrics "$id")
	echo "$m" >&2
	assert_eq 67108864 "$(echo "$m" | awk '$1 ~ /^memory\.(limit_in_bytes|usage_limit)$/ { print $2 }')" "memory limit in ctr task metrics"
}

# ctr task ps (the runtime's ps --format json): exactly the pids of the container's cgroup.
test_ctrd_ps_lists_the_cgroup_pids() {
	ctrd_up
	local id cg ps procs
	id=$(ctrd_new)
	ctrd_detached "$id" sh -c 'sleep 600 & sleep 601 & wait'
	cg=$(ctrd_cgroup "$PID" pids)
	wait_for 10 sh -c "[ \$(wc -l <'$cg/cgroup.procs') = 3 ]"
	ps=$(c task ps "$id" | awk 'NR > 1 { print $1 }' | sort -n | tr '\n' ' ')
	procs=$(sort -n "$cg/cgroup.procs" | tr '\n' ' ')
	assert_eq "$procs" "$ps" "ctr task ps vs $cg/cgroup.procs"
	assert_contains " $ps" " $PID " "ctr task ps"
}

# ctr task metrics (containerd reads the container's cgroup itself): memory in use and the
# number of pids, which must be the container's.
test_ctrd_metrics_show_memory_and_pids() {
	ctrd_up
	local id m
	id=$(ctrd_new)
	ctrd_detached "$id" sh -c 'sleep 600 & sleep 601 & wait'
	wait_for 10 sh -c "[ \$(wc -l <'$(ctrd_cgroup "$PID" pids)/cgroup.procs') = 3 ]"
	m=$(c task metrics "$id")
	echo "$m" >&2
	assert_eq 3 "$(echo "$m" | awk '$1 == "pids.current" { print $2 }')" "pids.current"
	# v1: memory.usage_in_bytes, v2: memory.usage
	assert_match "$(echo "$m" | awk '$1 ~ /^memory\.usage(_in_bytes)?$/ { print $2 }')" '^[1-9][0-9]*$' "memory usage"
}

# ctr task pause / resume (the runtime's pause/resume): PAUSED, the freezer says frozen, a
# counter in the container stands still; RUNNING again and the counter moves on.
test_ctrd_pause_freezes_and_resume_thaws() {
	ctrd_up
	local id f a b
	id=$(ctrd_new)
	ctrd_detached "$id" sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/cnt.new; mv /tmp/cnt.new /tmp/cnt; sleep 0.05; done'
	wait_for 10 test -s "/proc/$PID/root/tmp/cnt"
	c task pause "$id"
	assert_eq PAUSED "$(ctrd_status "$id")" "ctr task ls after pause"
	assert_eq paused "$(ctrd_rt state "$id" | jq -r .status)" "the runtime's state after pause"
	f=$(ctrd_cgroup "$PID" freezer)
	if [ -e "$f/freezer.state" ]; then
		assert_eq FROZEN "$(cat "$f/freezer.state")" "$f/freezer.state"
	else
		grep -qx 'frozen 1' "$f/cgroup.events" || fail "$f/cgroup.events: not frozen"
	fi
	a=$(cat "/proc/$PID/root/tmp/cnt")
	sleep 0.5
	b=$(cat "/proc/$PID/root/tmp/cnt")
	assert_eq "$a" "$b" "the counter while paused"
	c task resume "$id"
	assert_eq RUNNING "$(ctrd_status "$id")" "ctr task ls after resume"
	wait_for 5 sh -c "[ \$(cat /proc/$PID/root/tmp/cnt) -gt $b ]"
}

# ctr task delete + ctr container delete: no runtime state, no cgroup, no mount, no process,
# no snapshot is left of the container (each was there before).
test_ctrd_delete_leaves_nothing() {
	ctrd_up
	local id cgs
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	[ -d "$CTRD_RUNC_ROOT/$CTRD_NS/$id" ] || fail "no runtime state at $CTRD_RUNC_ROOT/$CTRD_NS/$id"
	cgs=$(ls -d /sys/fs/cgroup/*/"$CTRD_NS/$id" /sys/fs/cgroup/"$CTRD_NS/$id" 2>/dev/null || true)
	[ -n "$cgs" ] || fail "no cgroup /$CTRD_NS/$id"
	grep -qF "/$id/rootfs" /proc/self/mountinfo || fail "the rootfs of $id is not mounted"
	c snapshot ls | grep -F "$id" >/dev/null || fail "no snapshot $id"
	c task kill -s SIGKILL "$id"
	wait_for 10 ctrd_is "$id" STOPPED
	c task delete "$id"
	c container delete "$id"
	[ -z "$(ctrd_status "$id")" ] || fail "task $id still listed"
	[ -z "$(c container ls -q | grep -xF "$id")" ] || fail "container $id still listed"
	[ ! -e "$CTRD_RUNC_ROOT/$CTRD_NS/$id" ] || fail "runtime state left: $CTRD_RUNC_ROOT/$CTRD_NS/$id"
	if ctrd_rt state "$id" >/dev/null 2>&1; then fail "the runtime still knows $id"; fi
	local d
	for d in $cgs; do [ ! -d "$d" ] || fail "cgroup left: $d"; done
	if grep -F "/$id/" /proc/self/mountinfo >&2; then fail "mounts of $id left"; fi
	[ ! -d "/proc/$PID" ] || fail "init $PID still there"
	if c snapshot ls | grep -F "$id" >&2; then fail "snapshot of $id left"; fi
}

# A whole lifecycle (run -d, exec, pause, resume, ps, kill, delete --force, a ctr run --rm)
# makes the shim log no failed runtime call: it logs every non-zero exit of the runtime that
# it does not expect, e.g. its cleanup's delete --force of a container already gone (a
# failing one fails this test). kill --all of a stopped container is not reached from here
# (ctr task delete --force of a STOPPED task sends no kill): t_kill.sh tests it.
test_ctrd_lifecycle_logs_no_runtime_failure() {
	ctrd_up
	local id id2 lines
	id=$(ctrd_new)
	id2=$(ctrd_new)
	ctrd_detached "$id" sh -c 'sleep 600 & wait'
	ctrd_exec --exec-id e1 "$id" true </dev/null
	c task pause "$id"
	c task resume "$id"
	c task ps "$id" >/dev/null
	c task kill -s SIGKILL "$id"
	wait_for 10 ctrd_is "$id" STOPPED
	c task delete --force "$id"
	c container delete "$id"
	ctrd_run --rm "$id2" true </dev/null
	lines=$(grep -E "$id|$id2" "$CTRD/containerd.log" | grep -E 'level=error|did not terminate successfully' || true)
	[ -z "$lines" ] || fail "containerd logged runtime failures: $lines"
}

# A container whose args[0] does not exist: ctr run fails with the runtime's message.
test_ctrd_missing_executable_fails_with_runtime_message() {
	ctrd_up
	ctrd_fails_with "$(ctrd_new)" "no such file" -- /no-such-binary
	assert_contains "$OUT_CTR" "/no-such-binary" "ctr run's error"
}

# A container whose cwd cannot exist (its parent is a file; a missing cwd is created, as runc
# does): ctr run fails with the runtime's message.
test_ctrd_bad_cwd_fails_with_runtime_message() {
	ctrd_up
	ctrd_fails_with "$(ctrd_new)" "not a directory" --cwd=/etc/passwd/sub -- sh -c pwd
	assert_contains "$OUT_CTR" "/etc/passwd" "ctr run's error"
}

# ctr task exec of a missing executable: ctr fails with the runtime's message, read from the
# runtime's --log file in the bundle, whose lines are json {"level","msg","time"}.
test_ctrd_exec_failure_surfaces_runtime_message() {
	ctrd_up
	local id out rc log
	id=$(ctrd_new)
	ctrd_detached "$id" sleep 600
	set +e
	out=$(ctrd_exec --exec-id bad "$id" /no-such-binary </dev/null 2>&1)
	rc=$?
	set -e
	echo "$out" >&2
	[ "$rc" != 0 ] || fail "ctr task exec of a missing binary succeeded"
	assert_contains "$out" "OCI runtime exec failed: " "ctr task exec's error"
	assert_not_contains "$out" "did not terminate successfully" "ctr task exec's error"
	assert_contains "$out" "/no-such-binary" "ctr task exec's error"
	log=$CTRD/state/io.containerd.runtime.v2.task/$CTRD_NS/$id/log.json
	[ -s "$log" ] || fail "no runtime log at $log"
	cat "$log" >&2
	jq -e 'has("level") and has("msg") and has("time")' "$log" >/dev/null ||
		fail "a line of $log is not json with level, msg, time"
	grep '"level":"error"' "$log" | grep -F /no-such-binary >/dev/null || fail "no error line about /no-such-binary in $log"
}

suite_teardown() {
	[ -d "$CTRD" ] || return 0
	local rc=0 pid p id
	if ctrd_alive; then
		# each test removes its own: anything left is a failure (and is removed)
		for id in $(c task ls -q); do
			echo "task left: $id" >&2
			rc=1
			c task kill -s SIGKILL "$id"
			c task delete --force "$id"
		done
		for id in $(c container ls -q); do
			echo "container left: $id" >&2
			rc=1
			c container delete "$id"
		done
	fi
	pid=$(cat "$CTRD/containerd.pid" 2>/dev/null)
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
	fi
	# shims of this run's namespace, and container processes rooted in its state dir
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep "^[^ ]*containerd-shim-runc-v2 -namespace $CTRD_NS " >/dev/null; then
			echo "shim left: ${p#/proc/}" >&2
			rc=1
			kill -KILL "${p#/proc/}" 2>/dev/null
		fi
		case $(readlink "$p/root" 2>/dev/null) in "$CTRD"/*)
			echo "process left: ${p#/proc/}" >&2
			rc=1
			kill -KILL "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	# a leftover mount is a failure too, even once lazily unmounted here
	[ -z "$(it_mounts_under "$CTRD")" ] || rc=1
	it_mounts_under "$CTRD" | awk '{print $5}' | sort -r | while read -r m; do
		echo "mount left: $m" >&2
		umount -l "$m"
	done
	# containerd's cgroups of this namespace (ids of other tests' cgroups are not touched)
	find /sys/fs/cgroup/*/"$CTRD_NS" /sys/fs/cgroup/"$CTRD_NS" -depth -type d 2>/dev/null |
		while read -r d; do rmdir "$d" || echo "cgroup not removed: $d" >&2; done
	if ls -d /sys/fs/cgroup/*/"$CTRD_NS" /sys/fs/cgroup/"$CTRD_NS" 2>/dev/null; then rc=1; fi
	if [ -e "$CTRD/made-run-containerd" ]; then
		rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null
	fi
	rm -rf "$CTRD"
	return $rc
}
