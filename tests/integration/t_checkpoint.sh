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

test_checkpoint_refuses_an_established_tcp_connection_naming_process_and_fd() {
	ward_only
	command -v nsenter >/dev/null || skip "nsenter needed"
	mkbundle -- sh -c 'while [ ! -e /go ]; do sleep 0.05; done; sleep 1000 | nc -l -p 4711 >/dev/null & sleep 0.3
		sleep 1000 | nc 127.0.0.1 4711 & while :; do sleep 0.05; done'
	cfg_set '.root.readonly = false'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	nsenter -t "$PID" -n ip link set lo up
	touch "$B/rootfs/go"
	# both ends of a connection on port 4711 (0x1267) in state 01, established
	wait_for 5 sh -c "cat /proc/$PID/net/tcp /proc/$PID/net/tcp6 | grep -q ':1267 .* 01 '"
	assert_fail "cannot be checkpointed" w checkpoint --image-path "$T/img" "$ID"
	assert_contains "$OUT" "(nc) fd" "message names the process"
	assert_contains "$OUT" "established TCP connection" "message names the fd's kind"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
	[ "$(pgrep -P "$PID" nc | wc -l)" -ge 1 ] || fail "nc died after a refused checkpoint"
}

# port 4711 is 0x1267 in /proc/net/tcp{,6}; state 0A is LISTEN
tcp_listening() { cat "/proc/$1/net/tcp" "/proc/$1/net/tcp6" | grep -q ':1267 0*:0000 0A '; }

test_checkpoint_restored_tcp_server_accepts_a_connection() {
	ward_only
	command -v nsenter >/dev/null || skip "nsenter needed"
	mkbundle -- sh -c 'echo hello | nc -l -p 4711 >/got; while :; do sleep 0.05; done'
	cfg_set '.root.readonly = false'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 tcp_listening "$PID"
	w checkpoint --image-path "$T/img" "$ID"
	grep -q '"state": "listen"' "$T"/img/fds-*.json || fail "no listening socket in the image"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	wait_for 5 tcp_listening "$PID"
	nsenter -t "$PID" -n ip link set lo up
	OUT=$(nsenter -t "$PID" -n timeout 5 bash -c \
		'exec 3<>/dev/tcp/127.0.0.1/4711; echo ping >&3; head -c 6 <&3') ||
		fail "no connection to the restored server: $OUT"
	assert_eq hello "$OUT" "what the restored server sent"
	wait_for 5 grep -q ping "$B/rootfs/got"
}

test_checkpoint_tmpfs_contents_survive_restore() {
	ward_only
	mkbundle -- sh -c 'echo kept >/scratch/a; mkdir /scratch/d; echo deep >/scratch/d/b; chmod 640 /scratch/d/b
		i=0; while :; do i=$((i+1)); echo $i >/scratch/n; sleep 0.05; done'
	cfg_set '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}]'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(cat /proc/$PID/root/scratch/n 2>/dev/null || echo 0) -ge 5 ]"
	w checkpoint --image-path "$T/img" "$ID"
	local arch before after
	arch=$(jq -r '.tmpfs[] | select(.destination == "/scratch") | .archive' "$T/img/mounts.json")
	[ -f "$T/img/$arch" ] || fail "no archive of /scratch in the image"
	before=$(tar -xOf "$T/img/$arch" ./n)
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	assert_eq kept "$(cat "/proc/$PID/root/scratch/a")" "/scratch/a after restore"
	assert_eq deep "$(cat "/proc/$PID/root/scratch/d/b")" "/scratch/d/b after restore"
	assert_eq 640 "$(stat -c %a "/proc/$PID/root/scratch/d/b")" "mode of /scratch/d/b"
	assert_eq tmpfs "$(stat -f -c %T "/proc/$PID/root/scratch")" "/scratch is a tmpfs again"
	wait_for 5 sh -c "[ \$(cat /proc/$PID/root/scratch/n) -ge $((before + 5)) ]"
	after=$(cat "/proc/$PID/root/scratch/n")
	[ "$after" -gt "$before" ] || fail "counter $before before, $after after"
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
