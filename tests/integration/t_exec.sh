# ward exec: a new process in a running (or created) container.

# start_ctr [ARGS...]: run the bundle $B detached (default process: sleep 600); sets ID, IPID.
start_ctr() {
	[ "$(cfg_get '.process.args[0]')" != sh ] || set_args sleep 600
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null 2>&1 || fail "run --detach failed"
	IPID=$(state_field "$ID" .pid)
}

# exec_ok ARGS...: `w exec ARGS...`, must exit 0; OUT = stdout+stderr.
exec_ok() {
	set +e
	OUT=$(w exec "$@" </dev/null 2>&1)
	RC=$?
	set -e
	printf '[exec %s -> %s]\n%s\n' "$*" "$RC" "$OUT" >&2
	[ "$RC" = 0 ] || fail "exec $* exited $RC: $OUT"
}

# exec_fails MESSAGE ARGS...: `w exec ARGS...` fails with runc's status for a failed exec (255,
# so callers can tell it from the process's own status) and MESSAGE in its output.
exec_fails() {
	local msg=$1; shift
	set +e
	OUT=$(w exec "$@" </dev/null 2>&1)
	RC=$?
	set -e
	printf '[exec %s -> %s]\n%s\n' "$*" "$RC" "$OUT" >&2
	[ "$RC" != 0 ] || fail "exec $* succeeded: $OUT"
	[ "$RC" = 255 ] || fail "exec $* exited $RC, want 255"
	assert_contains "$OUT" "$msg" "error of exec $*"
}

# Processes in the pid namespace of the container's init (host view).
pids_in_ctr() {
	local ns p n=0
	ns=$(readlink "/proc/$IPID/ns/pid")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && n=$((n + 1))
	done
	echo "$n"
}

test_exec_shares_pid_namespace_with_init() {
	mkbundle
	start_ctr
	exec_ok "$ID" sh -c 'readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$(readlink /proc/$IPID/ns/pid)" "$(echo "$OUT" | sed -n 1p)" "pid namespace"
	assert_eq "sleep 600 " "$(echo "$OUT" | sed -n 2p)" "pid 1 of the exec'd process"
}

test_exec_shares_uts_ipc_net_namespaces() {
	mkbundle
	cfg_set '.hostname = "exec-host"'
	start_ctr
	exec_ok "$ID" sh -c 'hostname; for n in uts ipc net; do readlink /proc/self/ns/$n; done'
	assert_eq exec-host "$(echo "$OUT" | sed -n 1p)" "hostname"
	assert_eq "$(for n in uts ipc net; do readlink /proc/$IPID/ns/$n; done)" \
		"$(echo "$OUT" | sed -n 2,4p)" "uts, ipc, net namespaces"
}

test_exec_sees_the_container_rootfs() {
	mkbundle
	echo only-in-rootfs >"$B/rootfs/marker"
	start_ctr
	exec_ok "$ID" sh -c 'cat /marker; readlink /proc/self/ns/mnt'
	assert_eq only-in-rootfs "$(echo "$OUT" | sed -n 1p)" "file of the rootfs"
	assert_eq "$(readlink /proc/$IPID/ns/mnt)" "$(echo "$OUT" | sed -n 2p)" "mount namespace"
}

test_exec_joins_user_namespace() {
	mkbundle
	cfg_set '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	start_ctr
	exec_ok "$ID" sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user; id -u; sleep 1 & cat /proc/$!/status | grep ^Uid'
	assert_eq "$(cat /proc/$IPID/uid_map)" "$(echo "$OUT" | sed -n 1p)" "uid_map"
	assert_eq "$(readlink /proc/$IPID/ns/user)" "$(echo "$OUT" | sed -n 2p)" "user namespace"
	assert_eq 0 "$(echo "$OUT" | sed -n 3p)" "uid inside"
}

test_exec_joins_time_namespace() {
	mkbundle
	cfg_set '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}}'
	ID=$(newid)
	set_args sleep 600
	if ! w run --detach --bundle "$B" "$ID" </dev/null >/dev/null 2>&1; then
		is_runc && skip "runc 1.1 has no time namespace support"
		fail "run with a time namespace failed"
	fi
	IPID=$(state_field "$ID" .pid)
	exec_ok "$ID" sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
	assert_eq "$(readlink /proc/$IPID/ns/time)" "$(echo "$OUT" | sed -n 1p)" "time namespace"
	local host inside
	host=$(cut -d. -f1 /proc/uptime)
	inside=$(echo "$OUT" | sed -n 2p)
	[ $((inside - host)) -ge 86390 ] || fail "uptime inside $inside vs host $host: no boottime offset"
}

test_exec_joins_the_cgroup_of_the_init() {
	mkbundle
	start_ctr
	w exec --detach --pid-file "$T/exec.pid" "$ID" sleep 600 </dev/null >/dev/null 2>&1
	local pid
	pid=$(cat "$T/exec.pid")
	[ -d "/proc/$pid" ] || fail "pid file names $pid, which is not running"
	assert_eq "$(cat /proc/$IPID/cgroup)" "$(cat /proc/$pid/cgroup)" "/proc/<pid>/cgroup"
	assert_eq "$(readlink /proc/$IPID/ns/cgroup)" "$(readlink /proc/$pid/ns/cgroup)" "cgroup namespace"
	assert_eq "$(readlink /proc/$IPID/ns/pid)" "$(readlink /proc/$pid/ns/pid)" "pid namespace"
}

# cg_dirs_of PID SUFFIX: the host directory of each cgroup hierarchy in which PID's cgroup
# path ends in SUFFIX (a v1 controller's mount, or the cgroup2 mount), one per line.
cg_dirs_of() {
	local line ctl path
	while IFS= read -r line; do
		ctl=${line#*:}; ctl=${ctl%%:*}
		path=${line#*:*:}
		case $path in */"$2") ;; *) continue ;; esac
		awk -v c="${ctl%%,*}" -v p="$path" '{
			for (i = 7; $i != "-"; i++) ;
			if (c == "" && $(i + 1) == "cgroup2") { print $5 p; exit }
			if (c == "" || $(i + 1) != "cgroup") next;
			n = split($(i + 3), o, ",");
			for (j = 1; j <= n; j++) if (o[j] == c) { print $5 p; exit }
		}' /proc/self/mountinfo
	done <"/proc/$1/cgroup"
}

test_exec_cgroup_joins_a_sub_cgroup_in_every_hierarchy() {
	ward_only "runc 1.1 takes --cgroup too; its v1 controller form differs"
	mkbundle
	start_ctr
	local d dirs
	dirs=$(cg_dirs_of "$IPID" "$ID")
	[ -n "$dirs" ] || fail "no cgroup directory of the container found"
	for d in $dirs; do
		mkdir "$d/sub"
		defer "rmdir $d/sub"
		# a v1 cpuset starts empty (no cpus, no mems): the user fills it, as for runc
		if [ -e "$d/sub/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	exec_ok --cgroup sub "$ID" cat /proc/self/cgroup
	local n_ctr n_sub
	n_ctr=$(grep -c "/$ID\$" "/proc/$IPID/cgroup")
	n_sub=$(printf '%s\n' "$OUT" | grep -c "/sub\$")
	assert_eq "$n_ctr" "$n_sub" "hierarchies in which the exec'd process is in sub/"
	# the init stays where it was
	assert_eq 0 "$(grep -c /sub "/proc/$IPID/cgroup")" "sub-cgroup lines of the init"
	set +e
	OUT=$(w exec --cgroup nosuch "$ID" true 2>&1); RC=$?
	set -e
	assert_eq 255 "$RC" "exit status of an exec into a missing sub-cgroup"
	assert_contains "$OUT" "--cgroup nosuch"
	assert_fail "controller list" w exec --cgroup memory:sub "$ID" true
	assert_fail "below the container" w exec --cgroup ../x "$ID" true
	assert_fail "given twice" w exec --cgroup sub --cgroup sub "$ID" true
}

test_exec_foreground_process_is_in_the_cgroup() {
	mkbundle
	cfg_set '.root.readonly = false'
	start_ctr
	w exec "$ID" sh -c 'echo $$ >/tmp/fg; sleep 600' </dev/null >/dev/null 2>&1 &
	local bg=$!
	defer "kill $bg"
	wait_for 10 w exec "$ID" test -s /tmp/fg
	local pid
	pid=$(w exec "$ID" cat /tmp/fg </dev/null)
	# the container-side pid -> the host pid: the sh whose NSpid ends in it
	local p host=
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$(readlink /proc/$IPID/ns/pid)" ] &&
			[ "$(awk '/^NSpid:/ {print $NF}' "$p/status" 2>/dev/null)" = "$pid" ]; then
			host=${p#/proc/}
		fi
	done
	[ -n "$host" ] || fail "no host process for container pid $pid"
	assert_eq "$(cat /proc/$IPID/cgroup)" "$(cat /proc/$host/cgroup)" "cgroup of the foreground exec"
}

test_exec_default_caps_are_the_configs() {
	mkbundle
	start_ctr
	exec_ok "$ID" grep ^CapEff /proc/self/status
	assert_eq "$(grep ^CapEff /proc/$IPID/status)" "$OUT" "CapEff"
}

test_exec_cap_flag_adds_a_capability() {
	mkbundle
	start_ctr
	exec_ok --cap CAP_SYS_ADMIN "$ID" grep -E '^Cap(Eff|Bnd)' /proc/self/status
	local eff init
	eff=$(echo "$OUT" | awk '/^CapEff/ {print $2}')
	init=$(awk '/^CapEff/ {print $2}' /proc/$IPID/status)
	assert_eq $(printf '%016x' $((0x$init | 1 << 21))) "$eff" "CapEff with CAP_SYS_ADMIN"
	assert_eq $(printf '%016x' $((0x$init | 1 << 21))) "$(echo "$OUT" | awk '/^CapBnd/ {print $2}')" "CapBnd"
}

# The session keyring is not namespaced: like the init (and runc's exec), the exec'd process
# gets a new one instead of the caller's, whose keys would otherwise be the container's.
test_exec_does_not_inherit_the_callers_session_keyring() {
	command -v python3 >/dev/null || skip "no python3 for the keyring helper"
	mkbundle
	cfg_set '.linux.maskedPaths |= map(select(. != "/proc/keys"))'
	start_ctr
	local ring=wardit-ring-$RANDOM
	set +e
	OUT=$(python3 "$IT_DIR/helpers/keyring_run.py" "$ring" "$WARD" --root "$ROOT" exec "$ID" \
		sh -c 'cat /proc/keys; echo keys-read' </dev/null 2>&1)
	set -e
	echo "$OUT" >&2
	assert_contains "$OUT" keys-read "exec output"
	assert_not_contains "$OUT" "$ring" "keys the exec'd process possesses"
}

# ... unless the container was created with --no-new-keyring (runc keeps it for exec too).
test_exec_keeps_the_callers_keyring_with_no_new_keyring() {
	command -v python3 >/dev/null || skip "no python3 for the keyring helper"
	mkbundle -- sleep 600
	cfg_set '.linux.maskedPaths |= map(select(. != "/proc/keys"))'
	ID=$(newid)
	w run --detach --no-new-keyring --bundle "$B" "$ID" </dev/null >/dev/null 2>&1 ||
		fail "run --detach --no-new-keyring failed"
	local ring=wardit-ring-$RANDOM
	set +e
	OUT=$(python3 "$IT_DIR/helpers/keyring_run.py" "$ring" "$WARD" --root "$ROOT" exec "$ID" \
		cat /proc/keys </dev/null 2>&1)
	set -e
	echo "$OUT" >&2
	assert_contains "$OUT" "$ring" "keys the exec'd process possesses"
}

test_exec_user_flag_sets_uid_and_gid() {
	mkbundle
	start_ctr
	exec_ok -u 1000:1000 "$ID" sh -c 'id -u; id -g'
	assert_eq "1000
1000" "$OUT" "uid and gid"
	exec_ok -u 1000 -g 10 -g 20 "$ID" id -G
	assert_eq "0 10 20" "$OUT" "groups (the config's gid stays without :GID)"
}

test_exec_env_flag_overrides_the_config() {
	mkbundle
	cfg_set '.process.env = ["PATH=/bin", "MODE=config", "KEEP=yes"]'
	start_ctr
	exec_ok -e MODE=flag -e NEW=1 "$ID" sh -c 'echo "$MODE $KEEP $NEW"'
	assert_eq "flag yes 1" "$OUT" "environment"
}

# HOME as runc sets it when the process's env has none: the user's home in /etc/passwd, or /.
test_exec_home_from_the_containers_passwd() {
	mkbundle
	cfg_set '.process.env = ["PATH=/bin:/usr/bin"]'
	start_ctr
	exec_ok "$ID" sh -c 'echo "[$HOME]"'
	assert_eq "[/root]" "$OUT" "HOME of uid 0"
	exec_ok -u 4321 "$ID" sh -c 'echo "[$HOME]"'
	assert_eq "[/]" "$OUT" "HOME of a uid not in /etc/passwd"
	exec_ok -e HOME=/from/flag "$ID" sh -c 'echo "[$HOME]"'
	assert_eq "[/from/flag]" "$OUT" "HOME from -e"
}

test_exec_cwd_flag() {
	mkbundle
	start_ctr
	exec_ok --cwd /etc "$ID" pwd
	assert_eq /etc "$OUT" "cwd"
	exec_ok "$ID" pwd
	assert_eq "$(cfg_get .process.cwd)" "$OUT" "default cwd"
}

test_exec_no_new_privs_flag() {
	mkbundle
	cfg_set '.process.noNewPrivileges = false'
	start_ctr
	exec_ok "$ID" grep ^NoNewPrivs /proc/self/status
	assert_contains "$OUT" 0 "NoNewPrivs of the config"
	exec_ok --no-new-privs "$ID" grep ^NoNewPrivs /proc/self/status
	assert_contains "$OUT" 1 "NoNewPrivs with --no-new-privs"
}

test_exec_process_file() {
	mkbundle
	start_ctr
	cat >"$T/process.json" <<'JSON'
{"args": ["sh", "-c", "echo $X; pwd; id -u"], "env": ["PATH=/bin", "X=from-file"],
 "cwd": "/etc", "user": {"uid": 1000, "gid": 1000}}
JSON
	exec_ok --process "$T/process.json" "$ID"
	assert_eq "from-file
/etc
1000" "$OUT" "process of the file"
}

test_exec_exit_status_propagates() {
	mkbundle
	start_ctr
	set +e
	w exec "$ID" sh -c 'exit 7' </dev/null
	local rc=$?
	w exec "$ID" sh -c 'kill -KILL $$' </dev/null
	local rc2=$?
	set -e
	assert_eq 7 "$rc" "exit status"
	assert_eq 137 "$rc2" "status when killed by SIGKILL"
}

test_exec_forwards_signals() {
	mkbundle
	cfg_set '.root.readonly = false'
	start_ctr
	"$WARD" --root "$ROOT" exec "$ID" sh -c 'trap "exit 42" TERM; echo ready >/tmp/ready; while :; do sleep 0.1; done' </dev/null &
	local bg=$!
	wait_for 10 w exec "$ID" test -s /tmp/ready
	kill -TERM $bg
	set +e
	wait $bg
	local rc=$?
	set -e
	assert_eq 42 "$rc" "status after SIGTERM was forwarded"
}

test_exec_detach_with_pid_file() {
	mkbundle
	start_ctr
	local start end
	start=$(date +%s)
	w exec -d --pid-file "$T/pid" "$ID" sleep 600 </dev/null >/dev/null 2>&1
	end=$(date +%s)
	[ $((end - start)) -lt 5 ] || fail "exec -d did not return promptly"
	local pid
	pid=$(cat "$T/pid")
	assert_eq "sleep" "$(cat /proc/$pid/comm)" "process of the pid file"
	assert_eq "$(cat /proc/$IPID/cgroup)" "$(cat /proc/$pid/cgroup)" "its cgroup"
}

test_exec_detached_outlives_ward_without_pid_namespace() {
	mkbundle
	cfg_set '.linux.namespaces |= map(select(.type != "pid"))'
	start_ctr
	w exec -d --pid-file "$T/pid" "$ID" sleep 600 </dev/null >/dev/null 2>&1
	sleep 0.3
	local pid
	pid=$(cat "$T/pid")
	assert_eq sleep "$(cat /proc/$pid/comm 2>/dev/null)" "detached process after ward exec returned"
}

test_exec_into_created_container() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null >/dev/null 2>&1
	exec_ok "$id" echo hello
	assert_eq hello "$OUT" "output"
	assert_eq created "$(state_field "$id" .status)" "status after the exec"
}

test_exec_preserve_fds() {
	mkbundle
	start_ctr
	echo passed-fd >"$T/fd3"
	set +e
	OUT=$(w exec --preserve-fds 1 "$ID" sh -c 'cat <&3' 3<"$T/fd3" </dev/null 2>&1)
	set -e
	assert_eq passed-fd "$OUT" "content read from fd 3"
}

test_exec_ignores_an_inherited_listen_fds() {
	ward_only "runc's exec ignores LISTEN_FDS too, but prints its own texts"
	mkbundle
	start_ctr
	echo host-secret >"$T/fd3"
	set +e
	OUT=$(LISTEN_FDS=1 LISTEN_PID=$$ "$WARD" --root "$ROOT" exec "$ID" sh -c 'cat <&3 || echo no-fd-3' 3<"$T/fd3" </dev/null 2>&1)
	set -e
	assert_not_contains "$OUT" host-secret "what the exec'd process read from fd 3"
	assert_contains "$OUT" no-fd-3 "fd 3 inside"
}

test_exec_tty_with_console_socket() {
	mkbundle
	start_ctr
	start_fd_receiver copy "$T/console.sock" "$T/console.out"
	w exec -d -t --console-socket "$T/console.sock" "$ID" sh -c 'echo stdin=$(readlink /proc/self/fd/0); tty; sleep 0.3' </dev/null
	wait_for 10 grep -q 'stdin=/dev/pts/' "$T/console.out"
}

test_exec_tty_detached_needs_console_socket() {
	mkbundle
	start_ctr
	exec_fails "cannot allocate tty if" -t -d "$ID" true
	exec_fails "cannot use console socket if" -t --console-socket "$T/none.sock" "$ID" true
	exec_fails "cannot use console socket if" -d --console-socket "$T/none.sock" "$ID" true
}

test_exec_tty_in_foreground_relays_the_pty() {
	command -v script >/dev/null || skip "no script(1) to give the exec a terminal"
	mkbundle
	start_ctr
	# script gives ward a terminal on stdin; the relay copies the pty's output to it.
	script -qec "$WARD --root $ROOT exec -t $ID sh -c 'echo tty=\$(tty)'" "$T/typescript" </dev/null >/dev/null 2>&1 || true
	# ttyname resolves only for a pty of the container's own devpts (script's is the host's)
	assert_contains "$(cat "$T/typescript")" "tty=/dev/pts/" "terminal of the exec'd process"
}

test_exec_into_stopped_container_fails() {
	mkbundle -- true
	local id
	id=$(newid)
	w run --detach --bundle "$B" "$id" </dev/null >/dev/null 2>&1
	wait_for 5 sh -c "$WARD --root '$ROOT' state '$id' | grep -q stopped"
	exec_fails "cannot exec in a stopped container" "$id" true
}

test_exec_into_paused_container_fails_unless_ignore_paused() {
	mkbundle
	cfg_set '.root.readonly = false'
	start_ctr
	w pause "$ID"
	exec_fails "cannot exec in a paused container" "$ID" true
	w exec --ignore-paused "$ID" sh -c 'echo ran >/tmp/ran' </dev/null >/dev/null 2>&1 &
	local bg=$!
	sleep 0.5
	w resume "$ID"
	set +e
	wait $bg
	local rc=$?
	set -e
	assert_eq 0 "$rc" "exec --ignore-paused after resume"
	exec_ok "$ID" cat /tmp/ran
	assert_eq ran "$OUT" "the --ignore-paused process ran"
}

test_exec_unknown_container_fails() {
	exec_fails "does not exist" nosuchcontainer true
}

# A usage error (no container id) is runc's status 1, not exec's 255: callers read 255 as
# "exec itself failed" once the arguments were understood.
test_exec_without_container_id_is_a_usage_error() {
	set +e
	OUT=$(w exec </dev/null 2>&1)
	RC=$?
	set -e
	assert_eq 1 "$RC" "status of exec without arguments: $OUT"
}

test_exec_missing_executable_fails_cleanly() {
	mkbundle
	start_ctr
	local before
	before=$(pids_in_ctr)
	exec_fails "no-such-binary" "$ID" no-such-binary
	assert_contains "$OUT" "executable file not found" "error"
	exec_fails "" "$ID" /bin/no-such-binary
	assert_eq "$before" "$(pids_in_ctr)" "processes in the container"
	assert_eq running "$(state_field "$ID" .status)" "container status"
}

test_exec_pidfd_socket_gives_a_working_pidfd() {
	ward_only "runc 1.1 has no --pidfd-socket"
	mkbundle
	start_ctr
	start_fd_receiver pidfd "$T/pidfd.sock" "$T/pidfd.out"
	set +e
	w exec --pidfd-socket "$T/pidfd.sock" "$ID" sleep 600 </dev/null
	local rc=$?
	set -e
	wait_for 10 test -s "$T/pidfd.out"
	assert_eq "alive=True gone=True" "$(cat "$T/pidfd.out")" "pidfd checks"
	assert_eq 137 "$rc" "status of the process killed through its pidfd"
}

# The container's seccomp filter applies to exec'd processes too (loaded before the caps are
# dropped when noNewPrivileges is false, right before execve when it is true).
test_exec_process_is_seccomp_filtered() {
	mkbundle
	cfg_set '.root.readonly = false | .process.noNewPrivileges = false
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
	set_args sleep 600
	ID=$(newid)
	# (output to a file: the detached init would hold a command substitution's pipe open)
	if ! w run --detach --bundle "$B" "$ID" </dev/null >"$T/run.out" 2>&1; then
		OUT=$(cat "$T/run.out")
		fail "run with a seccomp filter failed: $OUT"
	fi
	local nnp
	for nnp in "" --no-new-privs; do
		set +e
		OUT=$(w exec $nnp "$ID" sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/blocked' </dev/null 2>&1)
		set -e
		echo "$OUT" >&2
		assert_contains "$OUT" "Seccomp:	2" "seccomp mode of the exec'd process ($nnp)"
		assert_contains "$OUT" "Permission denied" "mkdir under the filter ($nnp)"
	done
	exec_ok "$ID" sh -c 'test ! -e /tmp/blocked && echo absent'
	assert_eq absent "$OUT" "the blocked mkdir made nothing"
}

# SCMP_ACT_NOTIFY: the exec'd process's own filter gives a listener fd, which reaches the
# listenerPath agent with the process state (its pid, listenerMetadata). This agent closes
# every fd it gets, so notified syscalls then fail with ENOSYS.
test_exec_seccomp_notify_fd_reaches_the_listener() {
	command -v python3 >/dev/null || skip "no python3"
	cat >"$T/agent.py" <<'PY'
import json, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
open(out + ".ready", "w").close()
n = 0
while True:
    c, _ = s.accept()
    data, fds = b"", []
    while True:
        msg, got, flags, addr = socket.recv_fds(c, 65536, 4)
        data += msg
        fds += got
        try:
            doc = json.loads(data)
            break
        except ValueError:
            if not msg:
                doc = {"bad": data.decode(errors="replace")}
                break
    for fd in fds:
        os.close(fd)
    c.close()
    n += 1
    with open("%s.%d" % (out, n), "w") as f:
        json.dump({"fds": len(fds), "doc": doc}, f)
PY
	python3 "$T/agent.py" "$T/agent.sock" "$T/agent" &
	defer "kill $! 2>/dev/null"
	wait_for 5 test -e "$T/agent.ready"
	mkbundle
	cfg_set '.root.readonly = false
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $sock,
			"listenerMetadata": "exec-meta",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}' \
		--arg sock "$T/agent.sock"
	set_args sleep 600
	ID=$(newid)
	if ! w run --detach --bundle "$B" "$ID" </dev/null >"$T/run.out" 2>&1; then
		fail "run with a notify filter failed: $(cat "$T/run.out")"
	fi
	local before
	before=$(find "$T" -maxdepth 1 -name 'agent.[0-9]*' | wc -l)
	set +e
	w exec -d --pid-file "$T/exec.pid" "$ID" sh -c 'sleep 0.5; mkdir /tmp/x 2>/tmp/err; cat /tmp/err >/tmp/done; sleep 60' </dev/null >"$T/exec.out" 2>&1
	set -e
	OUT=$(cat "$T/exec.out")
	[ -s "$T/exec.pid" ] || fail "exec with a notify filter failed: $OUT"
	local n=$((before + 1))
	wait_for 10 test -s "$T/agent.$n"
	cat "$T/agent.$n" >&2
	assert_eq 1 "$(jq -r .fds "$T/agent.$n")" "fds passed to the agent"
	assert_eq exec-meta "$(jq -r .doc.metadata "$T/agent.$n")" "listenerMetadata"
	assert_eq '["seccompFd"]' "$(jq -c .doc.fds "$T/agent.$n")" "fds names"
	assert_eq "$ID" "$(jq -r .doc.state.id "$T/agent.$n")" "state.id"
	is_runc || assert_eq "$(cat "$T/exec.pid")" "$(jq -r .doc.pid "$T/agent.$n")" "pid of the exec'd process"
	wait_for 10 w exec "$ID" test -e /tmp/done
	exec_ok "$ID" cat /tmp/done
	assert_contains "$OUT" "Function not implemented" "mkdir once the agent closed the fd"
}
