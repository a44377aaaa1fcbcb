# Bad input: each fails with exit 1 and a message, and leaves nothing behind
# (no state under --root, no mount, no process).

test_malformed_json_fails_cleanly() {
	mkbundle -- true
	printf '{"ociVersion": "1.0.2", "process": {' >"$CFG"
	snapshot
	local id
	id=$(newid)
	assert_fail "" w create --bundle "$B" "$id"
	assert_no_leftovers
	assert_fail "" w run --bundle "$B" "$id"
	assert_no_leftovers
}

test_config_not_an_object_fails_cleanly() {
	mkbundle -- true
	echo '[1, 2, 3]' >"$CFG"
	snapshot
	assert_fail "" w run --bundle "$B" "$(newid)"
	assert_no_leftovers
}

test_unknown_namespace_type_fails_cleanly() {
	mkbundle -- true
	cfg_set '.linux.namespaces += [{"type": "bogus"}]'
	snapshot
	assert_fail "" w create --bundle "$B" "$(newid)"
	is_runc || assert_contains "$OUT" "linux.namespaces[5].type" "error message"
	assert_no_leftovers
}

test_missing_process_args_fails_cleanly() {
	mkbundle -- true
	cfg_set '.process.args = []'
	snapshot
	assert_fail "" w run --bundle "$B" "$(newid)"
	assert_no_leftovers
}

test_nonexistent_executable_fails_run() {
	mkbundle -- /no/such/binary
	snapshot
	local id
	id=$(newid)
	assert_fail "" w run --bundle "$B" "$id"
	assert_contains "$OUT" "/no/such/binary" "error message"
	assert_no_leftovers
}

test_missing_bundle_fails_cleanly() {
	snapshot
	assert_fail "" w create --bundle "$T/no-such-bundle" "$(newid)"
	assert_no_leftovers
}

test_missing_rootfs_fails_cleanly() {
	mkbundle -- true
	cfg_set '.root.path = "no-such-rootfs"'
	snapshot
	assert_fail "" w run --bundle "$B" "$(newid)"
	assert_no_leftovers
}

test_duplicate_id_refused() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null
	local pid
	pid=$(state_field "$id" .pid)
	assert_fail "" w create --bundle "$B" "$id"
	assert_contains "$OUT" "container with id exists: $id" "error message (runc's text, which callers may match)"
	assert_eq created "$(state_field "$id" .status)" "the first container"
	assert_eq "$pid" "$(state_field "$id" .pid)" "the first container's pid"
}

test_invalid_container_id_refused() {
	mkbundle -- true
	snapshot
	assert_fail "" w create --bundle "$B" "../escape"
	assert_no_leftovers
	[ ! -e "$T/escape" ] || fail "state written outside --root"
}

test_unknown_id_refused_by_state_kill_delete_start() {
	local cmd
	for cmd in state "kill" delete start; do
		assert_fail "" w $cmd no-such-container
		is_runc || assert_contains "$OUT" "does not exist" "error message of $cmd"
	done
	assert_no_leftovers
}

# runc's delete --force of an unknown container succeeds silently; containerd's runc v2 shim
# calls it in its cleanup and logs a warning for any failure.
test_delete_force_of_unknown_id_succeeds_silently() {
	local out
	out=$(w delete --force no-such-container 2>&1) || fail "delete --force exited $?: $out"
	assert_eq "" "$out" "output of delete --force"
	assert_fail "" w delete no-such-container
}

test_start_twice_refused() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null
	w start "$id"
	assert_fail "" w start "$id"
	assert_eq running "$(state_field "$id" .status)" "status after a second start"
}

test_start_stopped_container_refused() {
	mkbundle -- true
	local id
	id=$(newid)
	w run --keep --bundle "$B" "$id" </dev/null
	assert_fail "" w start "$id"
	assert_eq stopped "$(state_field "$id" .status)"
}

test_kill_stopped_container_refused() {
	mkbundle -- true
	local id
	id=$(newid)
	w run --keep --bundle "$B" "$id" </dev/null
	assert_fail "" w kill "$id" KILL
}

# usage errors: a non-zero status (runc exits 3 for an unknown command) and a message
test_unknown_command_and_flag_refused() {
	local args
	for args in "no-such-command" "--no-such-flag list" "list --no-such-flag"; do
		set +e
		OUT=$("$WARD" --root "$ROOT" $args </dev/null 2>&1)
		RC=$?
		set -e
		echo "[$args -> $RC] $OUT" >&2
		[ "$RC" != 0 ] || fail "[$args] succeeded"
		[ -n "$OUT" ] || fail "[$args] failed without a message"
	done
}

test_delete_running_without_force_keeps_everything() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w run --detach --bundle "$B" "$id" </dev/null
	local pid
	pid=$(state_field "$id" .pid)
	assert_fail "" w delete "$id"
	kill -0 "$pid" || fail "init killed by a refused delete"
	[ -e "$ROOT/$id" ] || fail "state removed by a refused delete"
}
