# OCI hooks. The hook log directory is bind-mounted into the container at the same path, so
# hooks that run inside the container (startContainer) write to the same place.

# hook KIND [EXTRA SHELL]: a hook entry that appends "KIND" to $T/hooks/log and saves its stdin
hook() {
	jq -cn --arg k "$1" --arg d "$T/hooks" --arg x "${2:-}" \
		'{path: "/bin/sh", args: ["sh", "-c", "cat >\($d)/\($k).json; echo \($k) >>\($d)/log; \($x)"]}'
}

hooks_bundle() {
	mkdir -p "$T/hooks"
	mkbundle -- "$@"
	cfg_set '.mounts += [{"destination": $d, "type": "bind", "source": $d, "options": ["rbind", "rw"]}]' --arg d "$T/hooks"
}

test_hooks_all_six_kinds_run_in_order_with_state() {
	hooks_bundle true
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		cfg_set ".hooks.$k = [\$h]" --argjson h "$(hook "$k")"
	done
	local id
	id=$(newid)
	run_ok "$id"
	local order
	order=$(tr '\n' ' ' <"$T/hooks/log" | sed 's/ $//')
	if is_runc; then
		# runc 1.1 runs poststart hooks when `create` finishes, before startContainer
		case $order in
		"prestart createRuntime createContainer startContainer poststart poststop") ;;
		"prestart createRuntime createContainer poststart startContainer poststop") ;;
		*) fail "hook order: $order" ;;
		esac
	else
		assert_eq "prestart createRuntime createContainer startContainer poststart poststop" "$order" "hook order"
	fi
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		assert_eq "$id" "$(jq -r .id "$T/hooks/$k.json")" "id in the state given to $k"
		assert_eq "$B" "$(jq -r .bundle "$T/hooks/$k.json")" "bundle in the state given to $k"
	done
	assert_eq creating "$(jq -r .status "$T/hooks/createRuntime.json")" "status given to createRuntime (the container is being created)"
	assert_eq stopped "$(jq -r .status "$T/hooks/poststop.json")" "status given to poststop"
	assert_match "$(jq -r .pid "$T/hooks/createRuntime.json")" '^[1-9][0-9]*$' "pid given to createRuntime"
}

test_hook_args_and_env_honoured() {
	hooks_bundle true
	cfg_set '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "echo \"$0|$1|$HOOKVAR|${LEAKVAR:-noleak}\" >\($d)/out", "zero", "one"], "env": ["HOOKVAR=hv"]}]' --arg d "$T/hooks"
	# the runtime's own environment is not the hook's
	LEAKVAR=leaked run_ok
	assert_eq "zero|one|hv|noleak" "$(cat "$T/hooks/out")" "hook argv and env"
}

test_failing_prestart_hook_fails_create_and_leaves_nothing() {
	hooks_bundle sleep 600
	cfg_set '.hooks.prestart = [{"path": "/bin/false"}]'
	snapshot
	local id
	id=$(newid)
	assert_fail "" w create --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_failing_create_runtime_hook_fails_run() {
	hooks_bundle true
	cfg_set '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]'
	snapshot
	local id
	id=$(newid)
	assert_fail "" w run --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_failing_poststop_hook_only_warns() {
	hooks_bundle true
	cfg_set '.hooks.poststop = [{"path": "/bin/false"}, $h]' --argjson h "$(hook poststop)"
	local id
	id=$(newid)
	w run --keep --bundle "$B" "$id" </dev/null
	w delete "$id" || fail "delete failed because of a failing poststop hook"
	if w state "$id" >/dev/null 2>&1; then fail "container still there"; fi
	# runc 1.1 stops at the first failing poststop hook; the spec says the rest continue
	is_runc || [ -e "$T/hooks/poststop.json" ] || fail "the poststop hook after the failing one did not run"
}

test_failing_poststart_hook_only_warns() {
	hooks_bundle sh -c 'echo ran >/'"${T#/}"'/hooks/process-ran'
	cfg_set '.hooks.poststart = [{"path": "/bin/false"}]'
	local id
	id=$(newid)
	if ! w create --bundle "$B" "$id" </dev/null && is_runc; then
		skip "runc 1.1 runs poststart hooks at create and fails it"
	fi
	set +e
	w start "$id" >"$T/start.out" 2>&1
	local rc=$?
	set -e
	if is_runc && [ "$rc" != 0 ]; then skip "runc 1.1 fails start and kills the container on a failing poststart hook"; fi
	assert_eq 0 "$rc" "start exit status with a failing poststart hook ($(cat "$T/start.out"))"
	wait_for 5 test -e "$T/hooks/process-ran"
}

test_hook_timeout_fails_create() {
	hooks_bundle true
	cfg_set '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]'
	local id start
	id=$(newid)
	start=$(date +%s)
	snapshot
	assert_fail "" w create --bundle "$B" "$id"
	[ $(($(date +%s) - start)) -lt 20 ] || fail "hook timeout not enforced"
	assert_no_leftovers "$id"
}
