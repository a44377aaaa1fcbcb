# checkpoint and restore of real containers (ward's own engine; runc needs CRIU, which fails on
# this host: these tests are ward-only). The engine's own tests are in tests/checkpoint/.

# a container counting into /count in its (writable) rootfs, about every 50 ms; sets ID, PID
start_counter() {
	mkbundle -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/count; sleep 0.05; done'
	cfg_set '.root.readonly = false'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge 5 ]"
}

# the numbers in /count are 1, 2, 3, ... with no gap and no restart; prints the last
count_is_sequence() {
	awk 'NR != $1 { print "line " NR " reads " $1 > "/dev/stderr"; bad = 1; exit 1 }
	     END { if (!bad) print NR }' "$B/rootfs/count"
}

test_checkpoint_restore_container_counts_on() {
	ward_only
	start_counter
	local img=$T/img before after
	w checkpoint --image-path "$img" "$ID"
	# without --leave-running the container is gone (as runc's checkpoint destroys it)
	assert_fail "" w state "$ID"
	[ -d "/proc/$PID" ] && ! grep -q '^State:.*Z' "/proc/$PID/status" && fail "init $PID still runs"
	before=$(count_is_sequence) || fail "count broken before restore"
	[ -f "$img/inventory.json" ] || fail "no inventory.json"
	w restore --detach --image-path "$img" --bundle "$B" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after restore"
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 10)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
	# a restored container is a normal ward container: kill, state, delete
	w kill "$ID" KILL
	wait_for 5 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$ID' | jq -r .status)\" = stopped ]"
	w delete "$ID"
	assert_fail "" w state "$ID"
}

test_checkpoint_leave_running_keeps_the_container() {
	ward_only
	start_counter
	local n
	w checkpoint --leave-running --image-path "$T/img" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after checkpoint --leave-running"
	n=$(wc -l <"$B/rootfs/count")
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -gt $((n + 5)) ]"
	count_is_sequence >/dev/null || fail "count broken"
}

test_checkpoint_refuses_a_socket_naming_process_and_fd() {
	ward_only
	mkbundle -- sh -c 'nc -l -p 4711 & while :; do sleep 0.05; done'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "pgrep -P $PID nc >/dev/null"
	assert_fail "cannot be checkpointed" w checkpoint --image-path "$T/img" "$ID"
	assert_contains "$OUT" "(nc) fd" "message names the process"
	assert_contains "$OUT" "socket:[" "message names the fd's kind"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
	pgrep -P "$PID" nc >/dev/null || fail "nc died after a refused checkpoint"
}

test_restore_refuses_an_image_of_another_format() {
	ward_only
	start_counter
	w checkpoint --image-path "$T/img" "$ID"
	sed -i 's/"format": 1/"format": 2/' "$T/img/inventory.json"
	assert_fail "format 2" w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "" w state "$ID"
}

test_checkpoint_pre_dump_then_final_dump_restores() {
	ward_only
	start_counter
	local before after
	w checkpoint --pre-dump --image-path "$T/pre" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after --pre-dump"
	sleep 0.2
	w checkpoint --parent-path "$T/pre" --image-path "$T/img" "$ID"
	assert_contains "$(cat "$T/img/inventory.json")" "\"parent\"" "final image names its parent"
	grep -q '"in_parent": true' "$T"/img/pagemap-*.json || fail "no page taken from the parent"
	before=$(count_is_sequence) || fail "count broken before restore"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 10)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
}

test_restore_refuses_a_bundle_with_seccomp() {
	ward_only
	start_counter
	w checkpoint --image-path "$T/img" "$ID"
	cfg_set '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}'
	assert_fail "linux.seccomp" w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "" w state "$ID"
}
