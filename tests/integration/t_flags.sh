# Global flags: --log, --log-format, --debug, --systemd-cgroup, --root.

test_log_json_lines_on_error() {
	w --log "$T/log.json" --log-format json state no-such-container >/dev/null 2>&1 || true
	[ -s "$T/log.json" ] || fail "nothing written to --log"
	cat "$T/log.json" >&2
	local line
	while IFS= read -r line; do
		echo "$line" | jq -e 'type == "object" and has("level") and has("msg") and has("time")' >/dev/null ||
			fail "log line is not a JSON object with level, msg, time: $line"
	done <"$T/log.json"
	assert_eq error "$(jq -r .level "$T/log.json" | tail -1)" "level of the last line"
}

test_log_text_on_error() {
	w --log "$T/log.txt" state no-such-container >/dev/null 2>&1 || true
	[ -s "$T/log.txt" ] || fail "nothing written to --log"
	assert_contains "$(cat "$T/log.txt")" "level=error" "text log"
}

test_debug_flag_accepted() {
	mkbundle -- sh -c 'echo dbg-ok'
	OUT=$(w --debug run --bundle "$B" "$(newid)" </dev/null 2>/dev/null)
	assert_contains "$OUT" dbg-ok "output with --debug"
}

test_debug_writes_debug_lines_to_log() {
	mkbundle -- true
	w --debug --log "$T/debug.log" --log-format json run --bundle "$B" "$(newid)" </dev/null >/dev/null 2>&1
	grep -q '"level":"debug"' "$T/debug.log" || fail "no debug line in the log: $(head -c 500 "$T/debug.log")"
}

test_systemd_cgroup_flag_accepted_or_clear_error() {
	mkbundle -- sh -c 'echo sd-ok'
	local id
	id=$(newid)
	cfg_set '.linux.cgroupsPath = "system.slice:wardit:" + $id' --arg id "$id"
	set +e
	OUT=$(w --systemd-cgroup run --bundle "$B" "$id" </dev/null 2>&1)
	RC=$?
	set -e
	echo "[--systemd-cgroup -> $RC] $OUT" >&2
	if [ -d /run/systemd/system ]; then
		assert_eq 0 "$RC" "run with --systemd-cgroup on a systemd host"
		assert_contains "$OUT" sd-ok
	else
		# no systemd: a clear failure, nothing left
		assert_eq 1 "$RC" "exit status without systemd"
		[ -n "$OUT" ] || fail "no message"
		is_runc || assert_contains "$OUT" "systemd" "error message"
		assert_no_leftovers "$id"
	fi
}

test_root_flag_keeps_state_under_root() {
	mkbundle -- sleep 600
	local id
	id=$(newid)
	w create --bundle "$B" "$id" </dev/null
	[ -e "$ROOT/$id" ] || fail "no state under --root $ROOT"
	if "$WARD" --root "$T/other-root" state "$id" >/dev/null 2>&1; then fail "state visible under another --root"; fi
}
