# Lifecycle: --version, spec, create/start/state/kill/delete, run and its flags, consoles.

test_version_prints_version_commit_spec() {
	ward_only "runc prints its own version text"
	local v
	v=$("$WARD" --version)
	assert_match "$(echo "$v" | sed -n 1p)" '^ward version [0-9]+\.[0-9]+\.[0-9]+' "first line"
	assert_match "$v" '^commit: [^ ]+' "--version"
	assert_match "$v" '^spec: 1\.2\.[0-9]+' "--version"
}

# `spec` writes a config that `run` accepts once a rootfs is in place.
test_spec_bundle_config_is_accepted_by_run() {
	mkbundle
	rm "$CFG"
	w spec --bundle "$B"
	[ -s "$CFG" ] || fail "spec --bundle wrote no config.json"
	assert_eq rootfs "$(cfg_get .root.path)" "root.path"
	assert_eq sh "$(cfg_get '.process.args[0]')" "process.args[0]"
	# The default is an interactive terminal; run it without one.
	cfg_set '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-ok"]'
	run_ok
	assert_eq spec-ok "$OUT"
}

test_spec_rootless_config_is_accepted_by_run() {
	mkbundle
	rm "$CFG"
	w spec --rootless --bundle "$B"
	[ "$(cfg_get '[.linux.namespaces[].type] | index("user") != null')" = true ] || fail "no user namespace in rootless spec"
	[ "$(cfg_get '.linux.uidMappings | length')" -ge 1 ] || fail "no uidMappings in rootless spec"
	cfg_set '.process.terminal = false | .process.args = ["sh", "-c", "cat /proc/self/uid_map"]'
	run_ok
	local want
	want=$(cfg_get '.linux.uidMappings[0] | "\(.containerID) \(.hostID) \(.size)"')
	assert_eq "$want" "$(echo "$OUT" | awk '{print $1, $2, $3}')" "uid_map inside"
}

test_spec_refuses_to_overwrite_config() {
	mkbundle
	assert_fail "exists" w spec --bundle "$B"
}

# create -> created, start -> running, kill -> stopped, delete -> gone; the state JSON fields.
test_state_reports_lifecycle_and_fields() {
	mkbundle -- sleep 600
	cfg_set '.annotations = {"org.example.k": "v1"}'
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null
	local s
	s=$(w state "$id")
	echo "$s" >&2
	assert_eq created "$(echo "$s" | jq -r .status)" "status after create"
	assert_eq "$id" "$(echo "$s" | jq -r .id)" "id"
	assert_match "$(echo "$s" | jq -r .ociVersion)" '^1\.[0-9]+\.[0-9]+' "ociVersion"
	local pid
	pid=$(echo "$s" | jq -r .pid)
	assert_match "$pid" '^[1-9][0-9]*$' "pid"
	[ -d "/proc/$pid" ] || fail "init pid $pid not alive after create"
	assert_eq "$B" "$(echo "$s" | jq -r .bundle)" "bundle (absolute)"
	assert_contains "$(echo "$s" | jq -r .rootfs)" "$B/rootfs" "rootfs"
	assert_match "$(echo "$s" | jq -r .created)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$' "created (RFC3339)"
	assert_eq v1 "$(echo "$s" | jq -r '.annotations["org.example.k"]')" "annotations"
	assert_eq true "$(echo "$s" | jq 'has("owner")')" "has owner"
	# the process has not been started: it is the runtime's init, not sleep
	assert_not_contains "$(tr '\0' ' ' </proc/$pid/cmdline)" "sleep 600" "init cmdline before start"

	w start "$id"
	wait_for 5 sh -c "tr '\\0' ' ' </proc/$pid/cmdline | grep -q 'sleep 600'"
	assert_eq running "$(state_field "$id" .status)" "status after start"

	w kill "$id" KILL
	wait_for 5 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$id' | jq -r .status)\" = stopped ]"
	w delete "$id"
	if w state "$id" >/dev/null 2>&1; then fail "state still works after delete"; fi
	[ ! -e "$ROOT/$id" ] || fail "state dir left after delete"
}

test_run_exit_status_propagates() {
	mkbundle -- sh -c 'exit 7'
	run_ctr
	assert_eq 7 "$RC" "exit status of run"
}

test_run_exit_status_zero_and_output() {
	mkbundle -- sh -c 'echo out; echo err >&2'
	run_ok
	assert_contains "$OUT" out
	assert_contains "$OUT" err
}

test_run_killed_by_sigkill_exits_137() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w run --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 &
	local runpid=$!
	wait_for 10 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$id' 2>/dev/null | jq -r .status)\" = running ]"
	w kill "$id" KILL
	local rc=0
	wait "$runpid" || rc=$?
	assert_eq 137 "$rc" "exit status of run after SIGKILL"
}

test_run_detach_returns_while_container_runs() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	timeout 10 "$WARD" --root "$ROOT" run --detach --bundle "$B" "$id" </dev/null >/dev/null 2>&1 ||
		fail "run --detach did not return 0 in time"
	assert_eq running "$(state_field "$id" .status)" "status after run --detach"
	w delete --force "$id"
}

test_run_keep_keeps_stopped_container() {
	mkbundle -- true
	local id
	id=$(newid)
	run_ctr --keep "$id"
	assert_eq 0 "$RC" "run --keep exit status"
	assert_eq stopped "$(state_field "$id" .status)" "status after run --keep"
	w delete "$id"
	if w state "$id" >/dev/null 2>&1; then fail "state works after delete"; fi
}

test_run_without_keep_removes_container() {
	mkbundle -- true
	local id
	id=$(newid)
	run_ok "$id"
	if w state "$id" >/dev/null 2>&1; then fail "container still exists after run"; fi
}

test_create_pid_file_holds_init_pid() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w create --pid-file "$T/pidfile" --bundle "$B" "$id" </dev/null
	assert_eq "$(state_field "$id" .pid)" "$(cat "$T/pidfile")" "pid file"
}

test_start_runs_process_only_after_create() {
	mkdir "$T/shared"
	mkbundle -- sh -c 'echo started >/shared/marker'
	cfg_set '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' --arg s "$T/shared"
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null
	sleep 0.2
	[ ! -e "$T/shared/marker" ] || fail "process ran before start"
	w start "$id"
	# -s, not -e: the shell creates the file before echo writes into it
	wait_for 5 test -s "$T/shared/marker"
	assert_eq started "$(cat "$T/shared/marker")"
}

test_console_socket_receives_pty_master() {
	start_fd_receiver copy "$T/console.sock" "$T/console.out"
	mkbundle -- sh -c 'echo hello; tty; sleep 0.3'
	cfg_set '.process.terminal = true'
	local id
	id=$(newid)
	w create --console-socket "$T/console.sock" --bundle "$B" "$id" </dev/null
	w start "$id"
	wait_for 10 sh -c "grep -q hello '$T/console.out'"
	wait_for 10 sh -c "grep -q /dev/pts/ '$T/console.out'"
}

test_console_size_is_applied() {
	start_fd_receiver copy "$T/console.sock" "$T/console.out"
	mkbundle -- sh -c 'echo size=$(stty size); sleep 0.3'
	cfg_set '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 101}'
	local id
	id=$(newid)
	w create --console-socket "$T/console.sock" --bundle "$B" "$id" </dev/null
	w start "$id"
	wait_for 10 sh -c "grep -q 'size=' '$T/console.out'"
	assert_contains "$(cat "$T/console.out")" "size=33 101" "stty size"
}

test_terminal_without_console_socket_is_refused_for_create() {
	mkbundle -- true
	cfg_set '.process.terminal = true'
	local id
	id=$(newid)
	assert_fail "" w create --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_features_document_lists_namespaces_and_hooks() {
	local f
	f=$(w features)
	echo "$f" | jq -e . >/dev/null || fail "features output is not JSON: $f"
	assert_match "$(echo "$f" | jq -r .ociVersionMin)" '^1\.' "ociVersionMin"
	assert_match "$(echo "$f" | jq -r .ociVersionMax)" '^1\.' "ociVersionMax"
	local ns
	for ns in cgroup ipc mount network pid user uts; do
		[ "$(echo "$f" | jq --arg n "$ns" '.linux.namespaces | index($n) != null')" = true ] || fail "features: namespace $ns missing"
	done
	[ "$(echo "$f" | jq '.hooks | index("prestart") != null and index("poststop") != null')" = true ] || fail "features: hooks incomplete"
}
