# cgroups, backend-neutral: what a container's cgroup is and what pause/resume, ps, events,
# update, kill --all and delete do with it. Runs on the host lane (v1/hybrid) and in the VM
# lane (cgroup2 only): named test_cgroup_* so the VM lane picks them up.

# The host directory of PID's cgroup in the cgroup2 hierarchy (the unified one on a hybrid
# host), or in the pids v1 hierarchy on a legacy host.
cg_dir_of() {
	local pid=$1 rel
	rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	if [ -n "$rel" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		echo "/sys/fs/cgroup$rel"
	elif [ -n "$rel" ] && [ -d /sys/fs/cgroup/unified ]; then
		echo "/sys/fs/cgroup/unified$rel"
	else
		echo "/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids://p' "/proc/$pid/cgroup")"
	fi
}

# launch: run the bundle $B detached under a fresh id; sets ID, PID, CG (its cgroup dir).
launch() {
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	CG=$(cg_dir_of "$PID")
}

# start_ctr ARGS...: a detached container running ARGS (see launch).
start_ctr() {
	mkbundle -- "$@"
	launch
}

# in_host_pidns: the bundle's container shares the host pid namespace (only its cgroup then
# knows every process it started)
in_host_pidns() { cfg_set '.linux.namespaces |= map(select(.type != "pid"))'; }

# gone PID: PID has exited (or is a zombie waiting for its reaper)
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"; }

wait_stopped() { wait_for 10 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$1' | jq -r .status)\" = stopped ]"; }

test_cgroup_default_path_is_ward_id_and_delete_removes_it() {
	ward_only "default cgroup path"
	start_ctr sleep 600
	assert_eq "/ward/$ID" "$(sed -n 's/^0:://p' /proc/$PID/cgroup)" "cgroup2 path of the init"
	if [ -d /sys/fs/cgroup/pids/ward ]; then
		assert_eq "/ward/$ID" "$(sed -n 's/^[0-9]*:pids://p' /proc/$PID/cgroup)" "v1 pids path"
		assert_eq "/ward/$ID" "$(sed -n 's/^[0-9]*:memory://p' /proc/$PID/cgroup)" "v1 memory path"
	fi
	[ -d "$CG" ] || fail "cgroup dir $CG missing"
	w delete -f "$ID"
	[ ! -e "$CG" ] || fail "cgroup $CG left after delete"
	if [ -d /sys/fs/cgroup/memory/ward ]; then
		[ ! -e "/sys/fs/cgroup/memory/ward/$ID" ] || fail "v1 memory cgroup left after delete"
	fi
}

test_cgroup_absolute_cgroups_path_is_used() {
	mkbundle -- sleep 600
	local top="wardtest$$"
	defer "rmdir /sys/fs/cgroup/$top /sys/fs/cgroup/*/$top 2>/dev/null"
	cfg_set ".linux.cgroupsPath = \"/$top/inner\""
	launch
	assert_eq "/$top/inner" "$(sed -n 's/^0:://p' /proc/$PID/cgroup)" "cgroup2 path"
	w delete -f "$ID"
	for d in /sys/fs/cgroup/$top/inner /sys/fs/cgroup/*/$top/inner; do
		[ ! -e "$d" ] || fail "$d left after delete"
	done
}

test_cgroup_relative_path_is_below_the_runtimes_parent_cgroup() {
	ward_only "runc puts relative paths below its own cgroup on v1"
	mkbundle -- sleep 600
	local rel="wardrel$$" own parent
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	parent=$(dirname "$own")
	[ "$own" = / ] && parent=/
	defer "rmdir /sys/fs/cgroup${parent%/}/$rel /sys/fs/cgroup/*${parent%/}/$rel 2>/dev/null"
	cfg_set ".linux.cgroupsPath = \"$rel/x\""
	launch
	assert_eq "${parent%/}/$rel/x" "$(sed -n 's/^0:://p' /proc/$PID/cgroup)" "cgroup2 path"
}

test_cgroup_bad_cgroups_path_fails_cleanly() {
	ward_only "error text"
	mkbundle -- true
	cfg_set '.linux.cgroupsPath = "/a/../../etc"'
	ID=$(newid)
	snapshot
	assert_fail 'linux.cgroupsPath' w run --bundle "$B" "$ID"
	assert_no_leftovers "$ID"
}

test_cgroup_namespace_root_is_the_containers_cgroup() {
	mkbundle -- cat /proc/self/cgroup
	cfg_set '.linux.namespaces += [{"type":"cgroup"}] | .linux.namespaces |= unique_by(.type)'
	run_ok
	assert_contains "$OUT" "0::/" "cgroup2 line inside"
	# every hierarchy is rooted at the container's own cgroup
	local bad
	bad=$(printf '%s\n' "$OUT" | grep -v ':/$' | grep -v '^$' || true)
	[ -z "$bad" ] || fail "cgroup lines not rooted at the container: $bad"
}

test_cgroup_ps_json_lists_every_process() {
	start_ctr sh -c 'sleep 600 & sleep 600 & exec sleep 600'
	wait_for 5 sh -c "[ \$(pgrep -P $PID | wc -l) -ge 2 ]"
	local want got
	want=$(printf '%s\n' "$PID" $(pgrep -P "$PID") | sort -n | tr '\n' ' ')
	got=$(w ps --format json "$ID" | jq -r '.[]' | sort -n | tr '\n' ' ')
	assert_eq "$want" "$got" "ps --format json"
}

test_cgroup_ps_table_shows_only_the_container() {
	start_ctr sleep 600
	w ps "$ID" >"$T/ps"
	assert_match "$(head -1 "$T/ps")" 'PID' "header"
	assert_eq 2 "$(wc -l <"$T/ps")" "lines (header + init)"
	assert_contains "$(tail -1 "$T/ps")" " $PID " "the init's line"
	# ps options are passed on
	w ps "$ID" -o pid,comm >"$T/ps2"
	assert_match "$(tail -1 "$T/ps2")" "^ *$PID +sleep$" "ps -o pid,comm"
}

test_cgroup_pause_freezes_and_resume_thaws() {
	# rename, not `echo >/tmp/n`: frozen between the truncation and the write, the file would
	# stay empty and the comparisons below would compare nothing
	mkbundle -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done'
	cfg_set '.root.readonly = false'
	launch
	local f=/proc/$PID/root/tmp/n
	wait_for 5 test -s "$f"
	w pause "$ID"
	assert_eq paused "$(state_field "$ID" .status)" "status after pause"
	local a b
	a=$(cat "$f"); sleep 0.5; b=$(cat "$f")
	assert_match "$a" '^[0-9]+$' "counter when paused"
	assert_eq "$a" "$b" "counter while paused"
	w resume "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after resume"
	wait_for 5 sh -c "[ \"\$(cat $f)\" -gt $b ]"
}

test_cgroup_pause_and_resume_refuse_wrong_states() {
	start_ctr sleep 600
	assert_fail "not paused" w resume "$ID"
	w pause "$ID"
	assert_fail "cannot delete container" w delete "$ID"
	assert_eq paused "$(state_field "$ID" .status)" "still paused after refused delete"
	w resume "$ID"
	w kill "$ID" KILL
	wait_stopped "$ID"
	assert_fail "not running" w pause "$ID"
	assert_fail "does not exist" w pause nosuchcontainer
}

test_cgroup_pause_of_created_container_is_paused_and_resumes_to_created() {
	mkbundle -- sleep 600
	ID=$(newid)
	w create --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	w pause "$ID"
	assert_eq paused "$(state_field "$ID" .status)" "status after pausing a created container"
	assert_fail "paused" timeout 5 "$WARD" --root "$ROOT" start "$ID"
	w resume "$ID"
	assert_eq created "$(state_field "$ID" .status)" "status after resume"
	w pause "$ID"
	timeout 20 "$WARD" --root "$ROOT" delete -f "$ID" || fail "delete -f of a paused created container"
	wait_for 5 gone "$PID"
}

test_cgroup_delete_force_of_paused_container() {
	start_ctr sleep 600
	w pause "$ID"
	w delete -f "$ID"
	[ ! -e "$CG" ] || fail "cgroup left after delete -f of a paused container"
	gone "$PID" || fail "init $PID survived"
}

test_cgroup_kill_all_reaches_a_daemonized_grandchild() {
	# the init shares the host pid namespace here: only the cgroup knows the grandchild
	mkbundle -- sh -c '(setsid sleep 600 &) ; exec sleep 600'
	in_host_pidns
	launch
	wait_for 5 sh -c "[ \$(wc -l <$CG/cgroup.procs) -ge 2 ]"
	local pids
	pids=$(cat "$CG/cgroup.procs")
	w kill --all "$ID" KILL
	for p in $pids; do
		wait_for 5 gone "$p"
	done
}

test_cgroup_delete_kills_leftovers_and_never_hangs() {
	# a TERM-ignoring daemon outside the container's pid namespace view (host pid ns)
	mkbundle -- sh -c 'trap "" TERM; (trap "" TERM; setsid sleep 600 &); exec sleep 600'
	in_host_pidns
	launch
	wait_for 5 sh -c "[ \$(wc -l <$CG/cgroup.procs) -ge 2 ]"
	local pids start
	pids=$(cat "$CG/cgroup.procs")
	start=$(date +%s)
	timeout 20 "$WARD" --root "$ROOT" delete -f "$ID" || fail "delete -f failed or hung"
	[ $(($(date +%s) - start)) -lt 15 ] || fail "delete took too long"
	[ ! -e "$CG" ] || fail "cgroup $CG left"
	for p in $pids; do
		gone "$p" || fail "process $p survived delete"
	done
}

test_cgroup_events_stats_reports_pids_and_shape() {
	start_ctr sh -c 'sleep 600 & exec sleep 600'
	wait_for 5 sh -c "[ \$(wc -l <$CG/cgroup.procs) -ge 2 ]"
	w events --stats "$ID" >"$T/ev"
	assert_eq 1 "$(wc -l <"$T/ev")" "one line"
	assert_eq stats "$(jq -r .type "$T/ev")" "type"
	assert_eq "$ID" "$(jq -r .id "$T/ev")" "id"
	for k in .data.cpu.usage.total .data.memory.usage.usage .data.pids.current; do
		assert_match "$(jq -r "$k" "$T/ev")" '^[0-9]+$' "$k"
	done
	if [ -e /sys/fs/cgroup/pids/cgroup.procs ] || grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
		assert_eq 2 "$(jq -r .data.pids.current "$T/ev")" "pids.current"
	fi
}

test_cgroup_events_cpu_demand_tells_busy_from_idle() {
	ward_only "cpuDemand is a ward extension"
	start_ctr sh -c 'while :; do :; done'
	local busy=$ID
	start_ctr sleep 600
	local idle=$ID
	sleep 2
	local db di
	db=$(w events --stats "$busy" | jq -r .data.cpuDemand.demandCpus)
	di=$(w events --stats "$idle" | jq -r .data.cpuDemand.demandCpus)
	echo "demand busy=$db idle=$di"
	awk -v b="$db" -v i="$di" 'BEGIN { exit !(b > 0.5 && i < 0.1) }' ||
		fail "demand busy=$db idle=$di (want busy > 0.5, idle < 0.1)"
	# the interval stream gives the same picture over its window
	timeout 5 "$WARD" --root "$ROOT" events --interval 1s "$busy" >"$T/stream" || true
	assert_match "$(head -1 "$T/stream" | jq -r .data.cpuDemand.window)" '^interval$' "window"
	awk -v b="$(head -1 "$T/stream" | jq -r .data.cpuDemand.demandCpus)" 'BEGIN { exit !(b > 0.5) }' ||
		fail "interval demandCpus of the busy loop: $(head -1 "$T/stream")"
}

test_cgroup_events_psi_present_where_the_kernel_has_it() {
	ward_only "psi is a ward extension"
	start_ctr sleep 600
	[ -e "$CG/cpu.pressure" ] || skip "no PSI in $CG"
	w events --stats "$ID" >"$T/ev"
	for r in cpu memory io; do
		assert_match "$(jq -r ".data.psi.$r.some.total" "$T/ev")" '^[0-9]+$' "psi.$r.some.total"
	done
}

test_cgroup_events_stream_ends_when_the_container_stops() {
	ward_only "runc 1.1 keeps streaming after the container stopped"
	start_ctr sleep 600
	("$WARD" --root "$ROOT" events --interval 1s "$ID" >"$T/stream"; echo $? >"$T/rc") &
	sleep 0.3
	w kill "$ID" KILL
	wait_for 10 test -s "$T/rc"
	assert_eq 0 "$(cat "$T/rc")" "events exit status"
}

test_cgroup_events_interval_takes_go_durations_and_refuses_the_rest() {
	start_ctr sleep 600
	local bad
	for bad in inf nan -1s 0 0s 1x 5sx "" 1e400s; do
		assert_fail "--interval" w events --interval "$bad" "$ID"
	done
	# a compound duration is taken (timeout's 124: it was still streaming) and summed: 500 ms
	# gives a sample at 0.5, 1.0, 1.5 and 2.0 s (200 or 300 ms alone would give 7 or more)
	local rc=0
	timeout 2.2 "$WARD" --root "$ROOT" events --interval 0.2s300ms "$ID" >"$T/stream" || rc=$?
	assert_eq 124 "$rc" "exit status of a stream stopped by timeout"
	local n
	n=$(wc -l <"$T/stream")
	[ "$n" -ge 2 ] && [ "$n" -le 5 ] || fail "a 0.2s300ms stream gave $n samples in 2.2 s"
}

test_cgroup_update_bad_input_names_the_flag_or_file() {
	ward_only "error texts"
	start_ctr sleep 600
	assert_fail "--memory" w update --memory lots "$ID"
	assert_fail "--pids-limit" w update --pids-limit x "$ID"
	assert_fail "nosuch.json" w update --resources "$T/nosuch.json" "$ID"
	echo '{"memory": {"limit": "big"}}' >"$T/r.json"
	assert_fail "memory.limit" w update --resources "$T/r.json" "$ID"
	echo '{"memory": ' >"$T/r2.json"
	assert_fail "invalid JSON" w update --resources "$T/r2.json" "$ID"
	assert_fail "does not exist" w update --memory 64M nosuchcontainer
	assert_eq running "$(state_field "$ID" .status)" "status after bad updates"
}

test_cgroup_update_stopped_container_fails() {
	start_ctr sleep 600
	w kill "$ID" KILL
	wait_stopped "$ID"
	assert_fail "" w update --pids-limit 10 "$ID"
}

test_cgroup_ps_lists_leftovers_of_a_stopped_container() {
	# the init exits, a daemon it started stays in the cgroup (host pid namespace)
	mkbundle -- sh -c '(setsid sleep 600 &); read x </ready'
	in_host_pidns
	cfg_set ".root.readonly = false"
	mkfifo "$B/rootfs/ready"
	launch
	echo go >"$B/rootfs/ready"
	wait_stopped "$ID"
	local left
	left=$(cat "$CG/cgroup.procs")
	[ -n "$left" ] || fail "no daemon left in $CG"
	assert_eq "$left" "$(w ps --format json "$ID" | jq -r '.[]')" "ps of the stopped container"
	w delete "$ID"
	for p in $left; do
		gone "$p" || fail "daemon $p survived delete"
	done
}

# pids.max of the container's cgroup (v2 file, or the v1 pids hierarchy)
pids_max_of() {
	if [ -e "$CG/pids.max" ]; then cat "$CG/pids.max"; else cat "/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids://p' /proc/$PID/cgroup)/pids.max"; fi
}

test_cgroup_update_pids_limit_zero_leaves_the_limit_and_minus_one_lifts_it() {
	mkbundle -- sleep 600
	cfg_set '.linux.resources.pids = {"limit": 10}'
	launch
	assert_eq 10 "$(pids_max_of)" "pids.max at create"
	w update --pids-limit 0 "$ID"
	assert_eq 10 "$(pids_max_of)" "pids.max after --pids-limit 0"
	w update --pids-limit -1 "$ID"
	assert_eq max "$(pids_max_of)" "pids.max after --pids-limit -1"
}
