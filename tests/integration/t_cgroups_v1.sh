# cgroup v1 (hybrid and legacy hosts): the limits are observed from what the container can
# and cannot do, not from the file writes. Every test skips on a cgroup2-only host.

# The mount point of the v1 hierarchy carrying controller $1 (from mountinfo, first mount).
v1_mnt() {
	awk -v c="$1" '{
		for (i = 7; $i != "-"; i++) ;
		if ($(i + 1) != "cgroup") next;
		n = split($(i + 3), o, ",");
		for (j = 1; j <= n; j++) if (o[j] == c) { print $5; exit }
	}' /proc/self/mountinfo
}

# need_v1 CONTROLLER...: skip unless /sys/fs/cgroup holds v1 hierarchies with them.
need_v1() {
	[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] || skip "not a cgroup v1/hybrid host"
	local c
	for c in "$@"; do
		[ -n "$(v1_mnt "$c")" ] || skip "cgroup v1 controller $c not mounted"
	done
}

is_hybrid() { [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; }

# Every v1 hierarchy ward uses that is mounted here (one line each).
v1_all_mnts() {
	local c
	for c in cpu cpuacct cpuset memory pids blkio devices freezer hugetlb net_cls net_prio rdma; do
		v1_mnt "$c"
	done | sort -u
}

# cgdir CONTROLLER: the container's directory ($CGP, set by use_cgpath) in that hierarchy.
cgdir() { echo "$(v1_mnt "$1")$CGP"; }

# use_cgpath [PATH]: give the container (ID must be set) an explicit cgroupsPath, so that
# runc (whose default path differs) lands in the same place.
use_cgpath() {
	CGP=${1:-/ward/$ID}
	cfg_set ".linux.cgroupsPath = \"$CGP\""
}

# start_ctr ARG...: a detached container running ARG... in a fresh bundle; sets ID and PID.
start_ctr() {
	mkbundle -- "$@"
	cfg_set '.root.readonly = false'
	ID=$(newid)
	use_cgpath
}
launch() {
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
}

procs_of() { cat "$(cgdir "$1")/cgroup.procs" 2>/dev/null; }

test_cgv1_memory_limit_oom_kills_hog_not_host() {
	need_v1 memory
	mkbundle -- sh -c 'x=$(head -c 100m /dev/zero | tr "\0" x); echo survived ${#x}'
	ID=$(newid)
	use_cgpath
	cfg_set '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	run_ctr "$ID"
	assert_eq 137 "$RC" "exit status of the memory hog"
	assert_not_contains "$OUT" survived
	# the host is fine: it can still start processes and ward still answers
	assert_eq ok "$(sh -c 'echo ok')"
	w list >/dev/null
}

test_cgv1_memory_stats_show_limit_and_oom_event_is_reported() {
	need_v1 memory
	# the hog is a process started by exec: the OOM killer takes it, the container lives on.
	# The init allocates nothing after it starts: an init that forks once its child is killed
	# can charge the cgroup before the victim's memory is uncharged, and the kernel then
	# kills the init too (1 run in 8 when the hog was the init's child). The hog raises its
	# own oom_score_adj so that it is always the first choice.
	start_ctr sleep 600
	cfg_set '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	launch
	local stats
	stats=$(w events --stats "$ID")
	printf '%s\n' "$stats" >&2
	assert_eq stats "$(printf '%s' "$stats" | jq -r .type)" "event type"
	assert_eq 33554432 "$(printf '%s' "$stats" | jq -r .data.memory.usage.limit)" \
		"memory.usage.limit in events --stats"
	assert_match "$(printf '%s' "$stats" | jq -r .data.memory.usage.usage)" '^[1-9][0-9]*$' \
		"memory usage"
	timeout 20 "$WARD" --root "$ROOT" events --interval 1s "$ID" >"$T/events" 2>&1 &
	defer "kill $! 2>/dev/null"
	sleep 1
	local rc=0
	w exec "$ID" sh -c 'echo 1000 >/proc/self/oom_score_adj
		x=$(head -c 100m /dev/zero | tr "\0" x); echo survived' >"$T/hog" 2>&1 || rc=$?
	assert_eq 137 "$rc" "exit status of the exec'd hog"
	assert_not_contains "$(cat "$T/hog")" survived
	wait_for 15 grep -q '"type":"oom"' "$T/events"
	local line
	line=$(grep '"type":"oom"' "$T/events" | head -1)
	assert_eq "$ID" "$(printf '%s' "$line" | jq -r .id)" "id of the oom event"
	assert_eq running "$(state_field "$ID" .status)" "container after a process in it was OOM-killed"
	assert_match "$(grep oom_kill "$(cgdir memory)/memory.oom_control")" 'oom_kill [1-9]' \
		"oom_kill count"
}

test_cgv1_pids_max_stops_fork_loop_at_limit() {
	need_v1 pids
	# ash gives up at the first failed fork: the loop runs in a child shell, and the init
	# (which cannot fork any more either) ends with an exec
	start_ctr sh -c 'sh -c "i=0; while [ \$i -lt 30 ]; do sleep 600 & i=\$((i+1)); done" 2>/tmp/err
		echo done >/tmp/done; exec sleep 600'
	cfg_set '.linux.resources.pids = {limit: 10}'
	launch
	wait_for 10 test -e "$B/rootfs/tmp/done"
	local cur
	cur=$(cat "$(cgdir pids)/pids.current")
	[ "$cur" -le 10 ] || fail "pids.current $cur exceeds pids.max 10"
	[ "$cur" -ge 9 ] || fail "pids.current $cur: the loop should have filled the limit"
	assert_contains "$(cat "$B/rootfs/tmp/err")" "fork" "fork errors of the loop"
	local n
	n=$(wc -l <"$(cgdir pids)/cgroup.procs")
	[ "$n" -le 10 ] || fail "$n processes in the container, limit 10"
}

test_cgv1_cpu_quota_holds_busy_loop_near_20_percent() {
	need_v1 cpu cpuacct
	start_ctr sh -c 'while :; do :; done'
	cfg_set '.linux.resources.cpu = {quota: 20000, period: 100000}'
	launch
	sleep 0.5
	local f u0 u1 t0 t1 pct
	f=$(cgdir cpuacct)/cpuacct.usage
	t0=$(date +%s%N)
	u0=$(cat "$f")
	sleep 3
	u1=$(cat "$f")
	t1=$(date +%s%N)
	pct=$(((u1 - u0) * 1000 / (t1 - t0)))
	echo "measured CPU share: $((pct / 10)).$((pct % 10))% of one CPU (quota 20%)" >&2
	echo "measured CPU share: $((pct / 10)).$((pct % 10))%" >"$IT_RUN_TMP/cpu_share"
	[ "$pct" -ge 150 ] && [ "$pct" -le 250 ] ||
		fail "CPU share $((pct / 10)).$((pct % 10))% is not within 20% +-25%"
}

test_cgv1_pause_freezes_counter_and_resume_thaws_it() {
	need_v1 freezer
	start_ctr sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.05; done'
	launch
	wait_for 5 test -s "$B/rootfs/tmp/n"
	w pause "$ID"
	assert_eq FROZEN "$(cat "$(cgdir freezer)/freezer.state")" "freezer.state after pause"
	assert_eq paused "$(state_field "$ID" .status)" "status after pause"
	local a b
	a=$(cat "$B/rootfs/tmp/n")
	sleep 0.6
	b=$(cat "$B/rootfs/tmp/n")
	assert_eq "$a" "$b" "counter while paused"
	w resume "$ID"
	assert_eq THAWED "$(cat "$(cgdir freezer)/freezer.state")" "freezer.state after resume"
	assert_eq running "$(state_field "$ID" .status)" "status after resume"
	wait_for 5 sh -c "[ \"\$(cat '$B/rootfs/tmp/n')\" -gt '$b' ]"
}

# c 1:200 is an unassigned minor of the mem driver: opening it fails with ENXIO when the
# device cgroup lets it through and with EPERM when the cgroup denies it.
test_cgv1_devices_deny_all_refuses_node_but_allows_null() {
	need_v1 devices
	mkbundle -- sh -c 'echo x >/dev/null && echo null-ok; head -c1 /denied'
	mknod "$B/rootfs/denied" c 1 200
	ID=$(newid)
	use_cgpath
	cfg_set '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 3, access: "rwm"}]'
	run_ctr "$ID"
	assert_contains "$OUT" null-ok
	assert_contains "$OUT" "Operation not permitted" "opening the denied c 1:200 node"
	# control: without the deny rule the node is reachable (the driver answers ENXIO)
	cfg_set '.linux.resources.devices = [{allow: true, type: "c", major: 1, minor: 200, access: "rwm"}]'
	run_ctr "$(newid)"
	assert_contains "$OUT" "No such device or address" "c 1:200 allowed by a rule"
}

test_cgv1_no_device_rules_still_denies_all_but_the_defaults() {
	# as runc: a config without linux.resources.devices gets deny-all plus the default devices
	need_v1 devices
	mkbundle -- sh -c 'echo x >/dev/null && echo null-ok; head -c1 /denied'
	mknod "$B/rootfs/denied" c 1 200
	ID=$(newid)
	use_cgpath
	cfg_set 'del(.linux.resources.devices)'
	run_ctr "$ID"
	assert_contains "$OUT" null-ok
	assert_contains "$OUT" "Operation not permitted" "opening c 1:200 without device rules"
}

test_cgv1_update_changes_memory_and_pids_and_new_pids_limit_holds() {
	need_v1 memory pids
	start_ctr sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done
		sh -c "i=0; while [ \$i -lt 20 ]; do sleep 600 & i=\$((i+1)); done" 2>/tmp/err
		echo done >/tmp/done; exec sleep 600'
	cfg_set '.linux.resources.memory = {limit: 33554432} | .linux.resources.pids = {limit: 100}'
	launch
	w update --memory 64M "$ID"
	assert_eq 67108864 "$(cat "$(cgdir memory)/memory.limit_in_bytes")" "limit after --memory 64M"
	printf '%s\n' '{"memory": {"limit": 100663296}, "pids": {"limit": 7}}' >"$T/res.json"
	w update --resources "$T/res.json" "$ID"
	assert_eq 100663296 "$(cat "$(cgdir memory)/memory.limit_in_bytes")" "limit after --resources"
	assert_eq 7 "$(cat "$(cgdir pids)/pids.max")" "pids.max after --resources"
	w update --pids-limit 5 "$ID"
	assert_eq 5 "$(cat "$(cgdir pids)/pids.max")" "pids.max after --pids-limit 5"
	touch "$B/rootfs/tmp/go"
	wait_for 10 test -e "$B/rootfs/tmp/done"
	local cur
	cur=$(cat "$(cgdir pids)/pids.current")
	[ "$cur" -le 5 ] && [ "$cur" -ge 4 ] || fail "pids.current $cur after the loop (limit 5)"
	assert_contains "$(cat "$B/rootfs/tmp/err")" "fork" "fork errors under the updated limit"
}

test_cgv1_kill_all_reaches_daemonized_grandchild() {
	need_v1 pids
	start_ctr sh -c '(sh -c "trap \"\" TERM HUP; sleep 600" &); sleep 600 & wait'
	launch
	wait_for 5 sh -c "[ \$(wc -l <'$(cgdir pids)/cgroup.procs') -ge 3 ]"
	local all p
	all=$(procs_of pids | tr '\n' ' ')
	echo "processes: $all" >&2
	# the grandchild was reparented to the container's init: it is not the init's child now
	w kill --all "$ID" KILL
	for p in $all; do
		wait_for 5 sh -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status"
	done
	wait_for 5 sh -c "[ -z \"\$(cat '$(cgdir pids)/cgroup.procs' 2>/dev/null)\" ]"
}

test_cgv1_delete_removes_cgroups_despite_sigterm_ignorer() {
	need_v1 pids freezer
	start_ctr sh -c 'trap "" TERM; sh -c "trap \"\" TERM; sleep 600" & while :; do sleep 1; done'
	use_cgpath "/wardtest/$ID"
	defer "rmdir /sys/fs/cgroup/*/wardtest"
	launch
	local dirs d
	dirs=$(v1_all_mnts | sed "s|\$|$CGP|")
	is_hybrid && dirs="$dirs /sys/fs/cgroup/unified$CGP"
	for d in $dirs; do [ -d "$d" ] || fail "cgroup $d not created"; done
	w kill "$ID" TERM
	sleep 0.3
	assert_eq running "$(state_field "$ID" .status)" "status after an ignored SIGTERM"
	local t0=$SECONDS
	timeout 20 "$WARD" --root "$ROOT" delete --force "$ID"
	[ $((SECONDS - t0)) -le 10 ] || fail "delete took $((SECONDS - t0)) s"
	for d in $dirs; do [ ! -d "$d" ] || fail "cgroup $d left after delete"; done
	[ -d "$(v1_mnt pids)/wardtest" ] || fail "the parent /wardtest was removed too"
}

test_cgv1_default_cgroup_path_is_ward_slash_id() {
	ward_only "runc's default cgroup path is /<id>"
	need_v1 pids memory
	mkbundle -- sleep 600
	ID=$(newid)
	CGP=/ward/$ID
	launch
	assert_contains "$(procs_of pids)" "$PID" "pids cgroup /ward/$ID"
	assert_contains "$(procs_of memory)" "$PID" "memory cgroup /ward/$ID"
	if is_hybrid; then
		assert_contains "$(cat "/sys/fs/cgroup/unified$CGP/cgroup.procs")" "$PID" \
			"unified cgroup /ward/$ID"
	fi
	w kill "$ID" KILL
	wait_for 5 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$ID' | jq -r .status)\" = stopped ]"
	w delete "$ID"
	[ ! -d "$(cgdir pids)" ] || fail "$(cgdir pids) left after delete"
}

test_cgv1_unified_resources_are_refused_with_a_clear_error() {
	ward_only "runc accepts linux.resources.unified on hybrid hosts"
	need_v1 memory
	mkbundle -- true
	ID=$(newid)
	use_cgpath
	cfg_set '.linux.resources.unified = {"memory.high": "50M"}'
	assert_fail "linux.resources.unified" w run --bundle "$B" "$ID"
	assert_contains "$OUT" "cgroup v2"
	[ ! -d "$(cgdir memory)" ] || fail "cgroup $(cgdir memory) left after the failed create"
}

test_cgv1_cpuset_pins_the_container_to_cpu0() {
	need_v1 cpuset
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs to see the pinning"
	mkbundle -- sh -c 'grep Cpus_allowed_list /proc/self/status'
	ID=$(newid)
	use_cgpath
	cfg_set '.linux.resources.cpu = {cpus: "0", mems: "0"}'
	run_ok "$ID"
	assert_match "$OUT" 'Cpus_allowed_list:[[:space:]]+0$' "CPUs the container may run on"
}

# The kernel keeps memory.limit <= memory.memsw.limit at every write: raising both and
# lowering both only work when the two files are written in the right order.
test_cgv1_update_raises_and_lowers_memory_with_swap() {
	need_v1 memory
	start_ctr sleep 600
	[ -e "$(v1_mnt memory)/memory.memsw.limit_in_bytes" ] || skip "swap accounting is off"
	cfg_set '.linux.resources.memory = {limit: 33554432, swap: 67108864}'
	launch
	w update --memory 128M --memory-swap 256M "$ID"
	assert_eq 134217728 "$(cat "$(cgdir memory)/memory.limit_in_bytes")" "limit after raising"
	assert_eq 268435456 "$(cat "$(cgdir memory)/memory.memsw.limit_in_bytes")" "memsw after raising"
	w update --memory 16M --memory-swap 20M "$ID"
	assert_eq 16777216 "$(cat "$(cgdir memory)/memory.limit_in_bytes")" "limit after lowering"
	assert_eq 20971520 "$(cat "$(cgdir memory)/memory.memsw.limit_in_bytes")" "memsw after lowering"
	assert_eq running "$(state_field "$ID" .status)"
}
