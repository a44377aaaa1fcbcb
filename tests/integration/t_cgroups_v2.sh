# cgroup v2: each limit observed from outside the container (the kernel enforcing it), not
# only the file ward wrote. Every test skips unless /sys/fs/cgroup is cgroup2 with the
# controllers it needs (the VM lane: tests/vm/run.sh); on the hybrid dev host they all skip.

CGV2=/sys/fs/cgroup

# need_cgv2 [CONTROLLER...]: skip unless cgroup2 is at $CGV2 and the controllers are there.
need_cgv2() {
	[ "$(stat -fc %T "$CGV2" 2>/dev/null)" = cgroup2fs ] ||
		skip "no cgroup2 at $CGV2 (a hybrid or v1 host)"
	local c
	for c in "$@"; do
		grep -qw "$c" "$CGV2/cgroup.controllers" || skip "cgroup2 controller $c not available"
	done
	return 0
}

# cg_bundle ARG...: a bundle running ARG with a writable rootfs and linux.cgroupsPath
# /ward/$ID (ward's default, set explicitly so runc puts it in the same place). Sets ID, CG.
cg_bundle() {
	mkbundle -- "$@"
	ID=$(newid)
	CG=$CGV2/ward/$ID
	cfg_set '.linux.cgroupsPath = $p | .root.readonly = false' --arg p "/ward/$ID"
}

# cg_start: run the bundle detached; sets PID.
cg_start() {
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	[ -d "$CG" ] || fail "cgroup $CG not created"
}

# cg_key FILE KEY: the value of KEY in a "key value" cgroup file of the container.
cg_key() { awk -v k="$2" '$1 == k { print $2 }' "$CG/$1"; }

# ---- memory -----------------------------------------------------------------------------

# A shell that holds 200 MiB in a variable; the OOM killer picks it (the biggest process).
HOG='x=$(dd if=/dev/zero bs=1M count=200 2>/dev/null | tr "\0" x); echo survived'

test_cgv2_memory_limit_kills_hog_not_host() {
	need_cgv2 memory
	cg_bundle sh -c "$HOG"
	cfg_set '.linux.resources.memory = {limit: 33554432}'
	run_ctr "$ID"
	assert_eq 137 "$RC" "exit status of a container over its 32 MiB limit"
	assert_not_contains "$OUT" survived
	[ ! -d "$CG" ] || fail "cgroup $CG left after run"
	# the host is fine: it can still allocate and run
	sh -c 'x=$(dd if=/dev/zero bs=1M count=64 2>/dev/null | tr "\0" x); echo ${#x}' >"$T/host"
	assert_eq 67108864 "$(cat "$T/host")" "a host shell allocating 64 MiB"
}

test_cgv2_oom_is_an_event_and_stats_show_the_limit() {
	need_cgv2 memory
	cg_bundle sh -c "sleep 2; sh -c '$HOG'; echo \$? >/hog.rc; exec sleep 600"
	cfg_set '.linux.resources.memory = {limit: 33554432}'
	cg_start
	timeout 60 "$WARD" --root "$ROOT" events --interval 1s "$ID" >"$T/events" 2>&1 &
	defer "kill $! 2>/dev/null"
	wait_for 40 grep -q '"type":"oom"' "$T/events"
	assert_match "$(grep '"type":"oom"' "$T/events" | head -1)" "\"id\":\"$ID\""
	wait_for 10 test -s "$B/rootfs/hog.rc"
	assert_eq 137 "$(cat "$B/rootfs/hog.rc")" "exit status of the hog inside"
	assert_eq running "$(state_field "$ID" .status)" "the container after its hog was killed"
	[ "$(cg_key memory.events oom_kill)" -ge 1 ] || fail "memory.events: $(cat "$CG/memory.events")"
	w events --stats "$ID" >"$T/stats"
	assert_eq 33554432 "$(jq -r 'select(.type == "stats") | .data.memory.usage.limit' "$T/stats")" \
		"events --stats memory limit"
	[ "$(jq -r '.data.memory.usage.usage' "$T/stats")" -gt 0 ] || fail "no memory usage: $(cat "$T/stats")"
	[ "$(jq -r '.data.memory.raw.anon // empty' "$T/stats")" != "" ] ||
		fail "memory.stat keys missing from raw: $(cat "$T/stats")"
}

# ---- pids -------------------------------------------------------------------------------

test_cgv2_pids_limit_stops_a_fork_loop() {
	need_cgv2 pids
	cg_bundle sh -c '(for i in $(seq 100); do sleep 60 & done) 2>/fork.err; exec sleep 600'
	cfg_set '.linux.resources.pids = {limit: 20}'
	cg_start
	assert_eq 20 "$(cat "$CG/pids.max")" pids.max
	wait_for 20 test -s "$B/rootfs/fork.err"
	wait_for 10 sh -c "[ \$(awk '\$1 == \"max\" {print \$2}' $CG/pids.events) -ge 1 ]"
	local cur
	cur=$(cat "$CG/pids.current")
	[ "$cur" -le 20 ] || fail "pids.current $cur over the limit 20"
	[ "$(wc -l <"$CG/cgroup.procs")" -le 20 ] || fail "more than 20 processes in $CG"
	assert_contains "$(cat "$B/rootfs/fork.err")" "fork" "the fork loop's errors"
	w events --stats "$ID" >"$T/stats"
	assert_eq 20 "$(jq -r '.data.pids.limit' "$T/stats")" "events --stats pids limit"
}

# ---- cpu --------------------------------------------------------------------------------

test_cgv2_cpu_max_holds_a_busy_loop_near_its_quota() {
	need_cgv2 cpu
	cg_bundle sh -c 'while :; do :; done'
	cfg_set '.linux.resources.cpu = {quota: 20000, period: 100000}'
	cg_start
	assert_eq "20000 100000" "$(cat "$CG/cpu.max")" cpu.max
	# The share is measured once the loop runs into its quota, over a window that lasts until it
	# has used 300 ms of CPU (1.5 s at 0.2 CPU; longer when a loaded machine starves it). The
	# quota is an upper bound whatever the load; below it, a loaded machine decides (the lane's
	# guest once gave the loop nothing for 3 s), so only the bound and the throttling are checked.
	wait_for 30 sh -c "[ \$(awk '/^nr_throttled/ { print \$2 }' '$CG/cpu.stat') -ge 1 ]"
	local u0 u1 t0 t1 share
	u0=$(cg_key cpu.stat usage_usec) t0=$(date +%s%N)
	while :; do
		sleep 0.5
		u1=$(cg_key cpu.stat usage_usec) t1=$(date +%s%N)
		[ $((u1 - u0)) -lt 300000 ] && [ $((t1 - t0)) -lt 30000000000 ] || break
	done
	# per mille of one CPU
	share=$(((u1 - u0) * 1000000 / (t1 - t0)))
	echo "# cpu.max 0.2 CPU: measured $share/1000 of a CPU over $(((t1 - t0) / 1000000)) ms" >&2
	[ $((u1 - u0)) -ge 300000 ] || fail "the busy loop got only $(((u1 - u0) / 1000)) ms of CPU in 30 s"
	[ "$share" -le 250 ] ||
		fail "busy loop under cpu.max 20000/100000 used $share/1000 of a CPU (want <= 250)"
	[ "$(cg_key cpu.stat nr_throttled)" -ge 1 ] || fail "never throttled: $(cat "$CG/cpu.stat")"
}

test_cgv2_cpu_shares_1024_is_weight_100_and_unified_is_written() {
	need_cgv2 cpu memory
	cg_bundle sleep 600
	cfg_set '.linux.resources.cpu = {shares: 1024} |
		.linux.resources.unified = {"memory.high": "50000000"}'
	cg_start
	assert_eq 100 "$(cat "$CG/cpu.weight")" "cpu.weight for 1024 shares"
	# memory.high is kept in whole pages
	local page
	page=$(getconf PAGESIZE 2>/dev/null || echo 4096)
	assert_eq $((50000000 / page * page)) "$(cat "$CG/memory.high")" memory.high
}

test_cgv2_unified_key_escaping_the_cgroup_is_refused() {
	need_cgv2 memory
	ward_only "ward's message"
	cg_bundle true
	cfg_set '.linux.resources.unified = {"../memory.max": "1"}'
	assert_fail 'linux.resources.unified.../memory.max' w run --bundle "$B" "$ID"
	[ ! -d "$CG" ] || fail "cgroup $CG left after a refused config"
}

# ---- freezer ----------------------------------------------------------------------------

test_cgv2_pause_freezes_and_resume_thaws() {
	need_cgv2
	cg_bundle sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/counter; sleep 0.1; done'
	cg_start
	wait_for 10 test -s "$B/rootfs/counter"
	w pause "$ID"
	assert_eq 1 "$(cg_key cgroup.events frozen)" "cgroup.events frozen after pause"
	assert_eq paused "$(state_field "$ID" .status)" "status after pause"
	local c0 c1
	c0=$(cat "$B/rootfs/counter")
	sleep 1
	c1=$(cat "$B/rootfs/counter")
	assert_eq "$c0" "$c1" "counter while paused"
	w resume "$ID"
	assert_eq 0 "$(cg_key cgroup.events frozen)" "cgroup.events frozen after resume"
	assert_eq running "$(state_field "$ID" .status)" "status after resume"
	wait_for 10 sh -c "[ \$(cat '$B/rootfs/counter') -gt $c1 ]"
}

# ---- devices ----------------------------------------------------------------------------

# /dev/kmsg (c 1 11) bind-mounted in: not a default device and not in linux.devices, so only
# the device rules decide; opening it for writing needs no capability.
test_cgv2_device_rules_deny_what_they_do_not_allow() {
	need_cgv2
	local probe='for d in /dev/kmsg /dev/null; do if echo probe >$d; then echo "$d ok"; else echo "$d denied"; fi; done 2>&1'
	cg_bundle sh -c "$probe"
	cfg_set '.mounts += [{destination: "/dev/kmsg", source: "/dev/kmsg", type: "bind", options: ["bind"]}]'
	# an explicit allow for c 1:11 (kmsg): the control that shows the probe can succeed
	cfg_set '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 11, access: "rwm"}]'
	run_ok "$ID"
	assert_contains "$OUT" "/dev/kmsg ok" "with kmsg allowed"
	# without rules the baseline is still deny-all plus the default devices (as runc)
	ID=$(newid)
	cfg_set '.linux.cgroupsPath = $p' --arg p "/ward/$ID"
	cfg_set 'del(.linux.resources.devices)'
	run_ok "$ID"
	assert_contains "$OUT" "/dev/kmsg denied" "without device rules"
	assert_contains "$OUT" "/dev/null ok" "a default device without device rules"
	ID=$(newid)
	cfg_set '.linux.cgroupsPath = $p' --arg p "/ward/$ID"
	cfg_set '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 3, access: "rwm"}]'
	run_ok "$ID"
	assert_contains "$OUT" "/dev/null ok" "the allowed /dev/null"
	assert_contains "$OUT" "/dev/kmsg denied" "the denied /dev/kmsg"
	assert_contains "$OUT" "Operation not permitted" "the denied open's error"
}

# ---- update -----------------------------------------------------------------------------

test_cgv2_update_changes_memory_and_pids_of_a_running_container() {
	need_cgv2 memory pids
	# every second: try to start 10 processes at once; refused forks go to /fork.err
	cg_bundle sh -c 'while :; do (for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait) 2>>/fork.err; sleep 1; done'
	cfg_set '.linux.resources.memory = {limit: 134217728} | .linux.resources.pids = {limit: 100}'
	cg_start
	assert_eq 134217728 "$(cat "$CG/memory.max")" "memory.max at create"
	w update --memory 64M "$ID"
	assert_eq 67108864 "$(cat "$CG/memory.max")" "memory.max after update --memory 64M"
	assert_eq 100 "$(cat "$CG/pids.max")" "pids.max untouched by update --memory"
	sleep 2
	[ ! -s "$B/rootfs/fork.err" ] || fail "forks refused under pids.max 100: $(cat "$B/rootfs/fork.err")"
	w update --pids-limit 5 "$ID"
	assert_eq 5 "$(cat "$CG/pids.max")" "pids.max after update --pids-limit 5"
	wait_for 20 test -s "$B/rootfs/fork.err"
	assert_contains "$(cat "$B/rootfs/fork.err")" fork "errors of the refused forks"
	[ "$(cat "$CG/pids.current")" -le 5 ] || fail "pids.current $(cat "$CG/pids.current") over 5"
	[ "$(awk '$1 == "max" {print $2}' "$CG/pids.events")" -ge 1 ] || fail "pids.events max 0"
	printf '{"memory": {"limit": 100663296}, "pids": {"limit": 50}}' >"$T/res.json"
	w update --resources "$T/res.json" "$ID"
	assert_eq 100663296 "$(cat "$CG/memory.max")" "memory.max after update --resources"
	assert_eq 50 "$(cat "$CG/pids.max")" "pids.max after update --resources"
}

test_cgv2_update_cpu_period_keeps_the_quota() {
	need_cgv2 cpu
	cg_bundle sleep 600
	cfg_set '.linux.resources.cpu = {quota: 50000, period: 100000}'
	cg_start
	w update --cpu-period 200000 "$ID"
	assert_eq "50000 200000" "$(cat "$CG/cpu.max")" "cpu.max after update --cpu-period"
	w update --cpu-quota -1 "$ID"
	assert_eq "max 200000" "$(cat "$CG/cpu.max")" "cpu.max after update --cpu-quota -1"
}

# ---- kill and delete --------------------------------------------------------------------

test_cgv2_kill_all_reaches_a_daemonized_grandchild() {
	need_cgv2
	cg_bundle sh -c 'setsid sh -c "sleep 600 & exec sleep 601" & exec sleep 602'
	cg_start
	wait_for 10 sh -c "[ \$(wc -l <'$CG/cgroup.procs') -ge 3 ]"
	local pids p
	pids=$(cat "$CG/cgroup.procs" | tr '\n' ' ')
	w kill --all "$ID" KILL
	for p in $pids; do
		wait_for 10 sh -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status"
	done
	wait_for 10 sh -c "[ ! -s '$CG/cgroup.procs' ]"
}

test_cgv2_delete_removes_the_cgroup_of_a_sigterm_ignoring_container() {
	need_cgv2
	cg_bundle sh -c 'trap "" TERM; while :; do sleep 1; done'
	cg_start
	mkdir "$CG/child" 2>/dev/null || true # a nested cgroup the container made
	timeout 20 "$WARD" --root "$ROOT" delete --force "$ID" || fail "delete --force failed or hung"
	[ ! -d "$CG" ] || fail "cgroup $CG left after delete --force"
	[ ! -d "/proc/$PID" ] || grep -q '^State:.*Z' "/proc/$PID/status" || fail "init $PID still alive"
}

# ---- paths and stats --------------------------------------------------------------------

test_cgv2_default_cgroup_path_is_ward_id_with_the_init_in_it() {
	need_cgv2
	ward_only "ward's default cgroupsPath"
	mkbundle -- sleep 600
	ID=$(newid)
	CG=$CGV2/ward/$ID
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	grep -qx "$PID" "$CG/cgroup.procs" || fail "init $PID not in $CG: $(cat "$CG/cgroup.procs" 2>&1)"
	assert_eq "0::/ward/$ID" "$(cat "/proc/$PID/cgroup")" "/proc/PID/cgroup of the init"
	local ctl
	ctl=$(cat "$CGV2/ward/cgroup.subtree_control")
	assert_contains "$ctl" memory "controllers enabled for the container's parent"
	assert_contains "$ctl" pids "controllers enabled for the container's parent"
	w ps -f json "$ID" >"$T/ps"
	assert_eq "$PID" "$(jq -r '.[0]' "$T/ps")" "ward ps -f json"
}

test_cgv2_existing_cgroup_with_processes_is_refused() {
	need_cgv2
	ward_only "ward's message"
	cg_bundle sleep 600
	cg_start
	local id2=$(newid)
	mkbundle "$T/b2" -- true
	cfg_set '.linux.cgroupsPath = $p' --arg p "/ward/$ID"
	assert_fail "cgroup /ward/$ID is in use" w run --bundle "$B" "$id2"
	grep -qx "$PID" "$CG/cgroup.procs" || fail "the first container lost its cgroup"
}

test_cgv2_events_stats_report_cpu_pids_and_memory() {
	need_cgv2 cpu memory pids
	cg_bundle sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done; exec sleep 600'
	cfg_set '.linux.resources.pids = {limit: 64}'
	cg_start
	sleep 1
	w events --stats "$ID" >"$T/stats"
	local s
	s=$(cat "$T/stats")
	assert_eq stats "$(jq -r .type <<<"$s")" "event type"
	[ "$(jq -r '.data.cpu.usage.total' <<<"$s")" -gt 0 ] || fail "cpu usage total 0: $s"
	assert_eq 64 "$(jq -r '.data.pids.limit' <<<"$s")" "pids limit"
	[ "$(jq -r '.data.pids.current' <<<"$s")" -ge 1 ] || fail "pids current: $s"
	[ "$(jq -r '.data.memory.usage.usage' <<<"$s")" -gt 0 ] || fail "memory usage: $s"
}
