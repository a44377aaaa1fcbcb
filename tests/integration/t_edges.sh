# Edge cases found in review: namespaces shared with other containers, host-wide sysctls,
# signals to `run`, interrupted creates, fds of idmapped mounts.

test_delete_of_pid_ns_joiner_spares_the_owner() {
	mkbundle "$T/owner" -- sleep 600
	local a b pid
	a=$(newid)
	w run --detach --bundle "$B" "$a" </dev/null
	pid=$(state_field "$a" .pid)
	mkbundle "$T/joiner" -- sleep 600
	cfg_set '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)' --arg p "/proc/$pid/ns/pid"
	b=$(newid)
	w create --bundle "$B" "$b" </dev/null
	w delete --force "$b"
	assert_eq running "$(state_field "$a" .status)" "the container owning the pid namespace"
	kill -0 "$pid" || fail "the owner's init $pid was killed"
}

test_delete_force_kills_descendants_in_host_pid_ns() {
	mkbundle -- sh -c 'sleep 600 & echo $! >/tmp/child; sleep 600'
	cfg_set '.linux.namespaces |= map(select(.type != "pid")) | .root.readonly = false'
	local id pid child
	id=$(newid)
	w run --detach --bundle "$B" "$id" </dev/null
	wait_for 5 test -s "$B/rootfs/tmp/child"
	child=$(cat "$B/rootfs/tmp/child")
	kill -0 "$child" || fail "background child $child not running"
	w delete --force "$id"
	wait_for 5 sh -c "! kill -0 $child 2>/dev/null || grep -q '^State:.*Z' /proc/$child/status"
}

test_host_wide_sysctl_refused() {
	mkbundle -- true
	snapshot
	cfg_set '.linux.sysctl = {"vm.swappiness": "10"}'
	local before
	before=$(cat /proc/sys/vm/swappiness)
	assert_fail "vm.swappiness" w run --bundle "$B" "$(newid)"
	is_runc || assert_contains "$OUT" "linux.sysctl" "the message names the config field"
	assert_eq "$before" "$(cat /proc/sys/vm/swappiness)" "host vm.swappiness"
	assert_no_leftovers
}

test_net_sysctl_without_network_namespace_refused() {
	mkbundle -- true
	snapshot
	cfg_set '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	assert_fail "net.ipv4.ip_forward" w run --bundle "$B" "$(newid)"
	assert_eq "$before" "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward"
	assert_no_leftovers
}

test_user_namespace_with_joined_network_namespace() {
	touch "$T/netns"
	unshare --net="$T/netns" true
	defer "umount '$T/netns'"
	mkbundle
	cfg_set '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))' --arg p "$T/netns"
	sh_ok 'readlink /proc/self/ns/net; cat /proc/self/uid_map'
	assert_eq "net:[$(stat -L -c %i "$T/netns")]" "$(echo "$OUT" | sed -n 1p)" "joined net ns"
	assert_contains "$OUT" "100000" "uid map of the new user namespace"
}

test_run_forwards_any_signal_to_container() {
	mkbundle -- sh -c 'trap "echo got-alrm; exit 3" ALRM; echo ready >/tmp/ready; while :; do sleep 0.1; done'
	cfg_set '.root.readonly = false'
	local id pid
	id=$(newid)
	# not through w(): $! must be ward itself, not a subshell running the function
	"$WARD" --root "$ROOT" run --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 &
	pid=$!
	wait_for 5 test -s "$B/rootfs/tmp/ready"
	kill -ALRM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_eq 3 "$rc" "exit status of run after SIGALRM"
	assert_contains "$(cat "$T/out")" got-alrm "container saw SIGALRM"
	assert_no_leftovers "$id"
}

test_delete_removes_directory_of_interrupted_create() {
	ward_only "runc keeps its own state layout"
	local id
	id=$(newid)
	mkdir -p "$ROOT/$id"
	echo '{}' >"$ROOT/$id/config.json"
	w delete "$id"
	[ ! -e "$ROOT/$id" ] || fail "directory $ROOT/$id left behind"
}

test_idmapped_mount_fd_not_visible_in_container() {
	ward_only "runc 1.1 has no idmapped mounts"
	mkdir "$T/src"
	mkbundle
	mkdir -p "$B/rootfs/idm"
	cfg_set '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))
		| .mounts += [{"destination": "/idm", "type": "bind", "source": $s, "options": ["rbind", "idmap"]}]' --arg s "$T/src"
	set_args sh -c 'ls -l /proc/self/fd/ | grep -c -- "->" ; readlink /proc/self/fd/* || true'
	# preserve fds 3..12: an inherited tree fd in that range would reach the container
	exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null 8</dev/null 9</dev/null
	run_ok --preserve-fds 7 "$(newid)"
	exec 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-
	assert_not_contains "$OUT" "$T/src" "fds of the container"
	assert_not_contains "$OUT" "/idm" "fds of the container"
}
