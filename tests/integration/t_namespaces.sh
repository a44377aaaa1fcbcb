# Namespaces, each seen from inside the container and compared with the host.

ns_inode() { readlink "/proc/self/ns/$1"; }

# ns_differs NSNAME: the container's /proc/self/ns/NSNAME differs from the host's.
ns_differs() {
	sh_ok "readlink /proc/self/ns/$1"
	local host
	host=$(ns_inode "$1")
	assert_match "$OUT" "^$1:\[[0-9]+\]$" "ns link inside"
	[ "$OUT" != "$host" ] || fail "container shares the host's $1 namespace ($OUT)"
}

test_pid_namespace_process_is_pid_1() {
	mkbundle
	sh_ok 'echo $$; echo /proc/[0-9]*'
	assert_eq 1 "$(echo "$OUT" | sed -n 1p)" "pid inside"
	assert_eq /proc/1 "$(echo "$OUT" | sed -n 2p)" "processes visible (only the shell)"
	ns_differs pid
}

test_without_pid_namespace_host_pids_visible() {
	mkbundle
	cfg_set '.linux.namespaces |= map(select(.type != "pid"))'
	sh_ok 'echo $$'
	[ "$OUT" != 1 ] || fail "pid 1 without a pid namespace"
	assert_eq "$(ns_inode pid)" "$(set_args readlink /proc/self/ns/pid; run_ok; echo "$OUT")" "pid ns"
}

test_mount_namespace_is_private() {
	mkbundle
	ns_differs mnt
}

test_network_namespace_has_only_lo() {
	mkbundle
	sh_ok 'ls /sys/class/net'
	assert_eq lo "$OUT" "interfaces inside"
	ns_differs net
}

test_ipc_namespace_is_private() {
	mkbundle
	ns_differs ipc
}

test_uts_namespace_hostname_from_config() {
	mkbundle
	cfg_set '.hostname = "box-under-test"'
	sh_ok 'hostname'
	assert_eq box-under-test "$OUT" "hostname inside"
	[ "$(hostname)" != box-under-test ] || fail "host hostname changed"
	ns_differs uts
}

test_cgroup_namespace_root_is_slash() {
	mkbundle
	cfg_set '.linux.namespaces += [{"type": "cgroup"}]'
	sh_ok 'cat /proc/self/cgroup'
	echo "$OUT" >&2
	# every hierarchy's path is / inside a fresh cgroup namespace
	local bad
	bad=$(echo "$OUT" | awk -F: '$3 != "/"')
	[ -z "$bad" ] || fail "cgroup paths not / inside the cgroup ns: $bad"
	ns_differs cgroup
}

test_user_namespace_uid_map_from_config() {
	mkbundle
	cfg_set '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	sh_ok 'cat /proc/self/uid_map; cat /proc/self/gid_map; id -u'
	echo "$OUT" >&2
	assert_eq "0 100000 65536" "$(echo "$OUT" | sed -n 1p | awk '{print $1, $2, $3}')" "uid_map"
	assert_eq "0 100000 65536" "$(echo "$OUT" | sed -n 2p | awk '{print $1, $2, $3}')" "gid_map"
	assert_eq 0 "$(echo "$OUT" | sed -n 3p)" "uid inside"
	ns_differs user
}

test_user_namespace_process_runs_as_mapped_host_uid() {
	mkbundle -- sleep 600
	cfg_set '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	local id
	id=$(newid)
	w run --detach --bundle "$B" "$id" </dev/null
	local pid
	pid=$(state_field "$id" .pid)
	assert_eq 100000 "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" "host view of the container's uid"
}

time_ns_config() {
	cfg_set '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}, "monotonic": {"secs": 7200, "nanosecs": 0}}'
}

test_time_namespace_boottime_offset_shifts_uptime() {
	mkbundle
	time_ns_config
	run_ctr
	if [ "$RC" != 0 ] && is_runc; then skip "runc 1.1 has no time namespace support: $OUT"; fi
	sh_ok 'cat /proc/uptime'
	local inside host
	inside=$(echo "$OUT" | awk '{printf "%d", $1}')
	host=$(awk '{printf "%d", $1}' /proc/uptime)
	local d=$((inside - host))
	[ "$d" -ge 86390 ] && [ "$d" -le 86410 ] || fail "uptime inside $inside vs host $host: shift $d, want ~86400"
}

test_time_namespace_monotonic_offset_in_timens_offsets() {
	mkbundle
	time_ns_config
	run_ctr
	if [ "$RC" != 0 ] && is_runc; then skip "runc 1.1 has no time namespace support: $OUT"; fi
	sh_ok 'cat /proc/self/timens_offsets'
	assert_match "$OUT" 'monotonic +7200 +0' "timens_offsets"
	assert_match "$OUT" 'boottime +86400 +0' "timens_offsets"
	ns_differs time
}

# The namespace is pinned by a bind mount on a file in the test dir (what `ip netns add` does
# under /run/netns, without leaving a /run/netns mount on the host).
test_join_network_namespace_by_path() {
	touch "$T/netns"
	unshare --net="$T/netns" true
	defer "umount '$T/netns'"
	nsenter --net="$T/netns" ip link add dummy7 type dummy 2>/dev/null || true
	mkbundle
	cfg_set '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "$T/netns"
	sh_ok 'readlink /proc/self/ns/net; ls /sys/class/net | tr "\n" " "'
	local want
	want="net:[$(stat -L -c %i "$T/netns")]"
	assert_eq "$want" "$(echo "$OUT" | sed -n 1p)" "net ns inside"
	if nsenter --net="$T/netns" ip link show dummy7 >/dev/null 2>&1; then
		assert_contains "$OUT" dummy7 "interfaces of the joined namespace"
	fi
}

test_join_uts_namespace_of_another_container() {
	mkbundle "$T/first" -- sleep 600
	cfg_set '.hostname = "shared-uts"'
	local a
	a=$(newid)
	w run --detach --bundle "$B" "$a" </dev/null
	local pid
	pid=$(state_field "$a" .pid)
	mkbundle "$T/second"
	cfg_set '.linux.namespaces |= map(if .type == "uts" then .path = $p else . end) | del(.hostname)' --arg p "/proc/$pid/ns/uts"
	sh_ok 'hostname'
	assert_eq shared-uts "$OUT" "hostname through the joined uts ns"
}
