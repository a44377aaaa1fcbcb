# checkpoint and restore of a container's state beyond its processes: the SysV IPC objects of
# its own IPC namespace (ward-only, like t_checkpoint.sh).

# a container (own IPC namespace) whose workload made a message queue with 2 messages, a
# semaphore set and an unattached shm segment (tests/checkpoint/progs/sysvipc.c); sets ID
start_sysvipc() {
	local prog=$REPO/build/tests/checkpoint/progs/sysvipc
	[ -x "$prog" ] || skip "no $prog (make)"
	mkbundle -- /sysvipc make
	cp "$prog" "$B/rootfs/sysvipc"
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	wait_for 5 sh -c "\"$WARD\" --root '$ROOT' exec '$ID' /sysvipc show </dev/null | grep -q '^shm '"
}

test_checkpoint_sysvipc_objects_come_back_with_ids_and_contents() {
	ward_only
	start_sysvipc
	local before after
	before=$(w exec "$ID" /sysvipc show </dev/null)
	assert_contains "$before" 'type=7 "second message"' "the workload's queue"
	w checkpoint --image-path "$T/img" "$ID"
	grep -q '"format": 3' "$T/img/inventory.json" || fail "an image with IPC objects is not format 3"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	after=$(w exec "$ID" /sysvipc show </dev/null)
	[ "$before" = "$after" ] || fail "before checkpoint:
$before
after restore:
$after"
	# the queue's id is not 0 (one was removed first), the messages are in order
	assert_not_contains "$after" 'msg id=0 ' "the queue's id"
	assert_contains "$after" ' key=0x1234 mode=640 uid=0 gid=0 qnum=2
  type=1 "first"
  type=7 "second message"' "queue, messages in order"
	assert_contains "$after" 'key=0x2345 mode=660 uid=0 values=5,0,42' "semaphore values"
	assert_contains "$after" 'key=0x3456 mode=604 uid=0 size=8192 head="shm content ok" at8000="end"' \
		"shm contents"
}
