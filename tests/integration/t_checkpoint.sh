# checkpoint and restore of real containers (ward's own engine; runc needs CRIU, which fails on
# this host: these tests are ward-only). The engine's own tests are in tests/checkpoint/.

# run the bundle $B detached with a writable rootfs until its workload has written 5 lines to
# /count; sets ID, PID. FILTER: a jq filter for its config.json besides.
run_counting() {
	cfg_set ".root.readonly = false${1:+ | $1}"
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge 5 ]"
}

# a container counting into /count in its (writable) rootfs, about every 50 ms; sets ID, PID.
# FILTER: a jq filter for its config.json besides.
start_counter() {
	mkbundle -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/count; sleep 0.05; done'
	run_counting "${1:-}"
}

# the numbers in /count are FIRST (default 1), FIRST + 1, ... with no gap and no restart; prints
# how many
count_is_sequence() {
	awk -v first="${1:-1}" '
		NR != $1 - first + 1 { print "line " NR " reads " $1 > "/dev/stderr"; bad = 1; exit 1 }
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

# cg_limit PID pids|memory: the container's pids or memory limit as the kernel has it (v1
# hierarchy or cgroup2), for the cgroup of PID
cg_limit() {
	local line path mnt
	if line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup"); then
		path=${line#*:*:}
		mnt=$(awk -v c="$2" '{ for (i = 7; $i != "-"; i++) ;
			if ($(i + 1) == "cgroup" && index("," $(i + 3) ",", "," c ",")) { print $5; exit } }' \
			/proc/self/mountinfo)
		[ "$2" = memory ] && cat "$mnt$path/memory.limit_in_bytes" || cat "$mnt$path/pids.max"
	else
		path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
		[ "$2" = memory ] && cat "/sys/fs/cgroup$path/memory.max" || cat "/sys/fs/cgroup$path/pids.max"
	fi
}

test_checkpoint_carries_config_and_updates_and_restore_applies_them() {
	ward_only
	start_counter '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}'
	# two updates, the second one's pids limit wins
	w update --memory 96M --pids-limit 33 "$ID"
	echo '{"pids": {"limit": 44}}' >"$T/res.json"
	w update --resources "$T/res.json" "$ID"
	assert_eq 44 "$(cg_limit "$PID" pids)" "pids limit after the updates"
	local img=$T/img root2=$T/root2
	w checkpoint --image-path "$img" "$ID"
	cmp -s "$img/config.json" "$B/config.json" || fail "the image's config.json is not the container's"
	assert_eq 2 "$(wc -l <"$img/cgroup-updates.jsonl")" "updates in the image"
	# with --manage-cgroups-mode ignore: the bundle's limits as created
	defer "\"$WARD\" --root $root2 delete --force $ID"
	"$WARD" --root "$root2" restore --detach --manage-cgroups-mode ignore --image-path "$img" \
		--bundle "$B" "$ID" || fail "restore --manage-cgroups-mode ignore"
	PID=$("$WARD" --root "$root2" state "$ID" | jq -r .pid)
	assert_eq 50 "$(cg_limit "$PID" pids)" "pids limit with --manage-cgroups-mode ignore"
	assert_eq 67108864 "$(cg_limit "$PID" memory)" "memory limit with --manage-cgroups-mode ignore"
	"$WARD" --root "$root2" delete --force "$ID"
	# the image's config.json never stands in for the bundle's (its hooks would run here)
	mv "$B/config.json" "$T/config.json"
	assert_fail "config.json" w restore --detach --image-path "$img" --bundle "$B" "$ID"
	mv "$T/config.json" "$B/config.json"
	# a plain restore: the bundle's config with the updates applied again, in order
	w restore --detach --image-path "$img" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	assert_eq 44 "$(cg_limit "$PID" pids)" "pids limit after restore"
	assert_eq 100663296 "$(cg_limit "$PID" memory)" "memory limit after restore"
	# (both restores counted into the same /count: only its growth tells this one runs)
	assert_eq running "$(state_field "$ID" .status)" "status after restore"
	local n
	n=$(wc -l <"$B/rootfs/count")
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -gt $((n + 5)) ]"
}

# A restored container's updates stay its record: checkpointed again, the new image still
# carries them. And an image directory reused for a container never updated does not keep the
# old image's updates.
test_checkpoint_updates_survive_a_second_checkpoint_and_a_reused_directory_drops_them() {
	ward_only
	start_counter '.linux.resources.pids = {limit: 50}'
	w update --pids-limit 44 "$ID"
	local img=$T/img img2=$T/img2
	w checkpoint --image-path "$img" "$ID"
	w restore --detach --image-path "$img" --bundle "$B" "$ID"
	w checkpoint --image-path "$img2" "$ID"
	[ -f "$img2/cgroup-updates.jsonl" ] || fail "the second image lost the restored container's updates"
	w restore --detach --image-path "$img2" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	assert_eq 44 "$(cg_limit "$PID" pids)" "pids limit after checkpoint, restore, checkpoint, restore"
	w delete --force "$ID"
	# a new container, never updated, checkpointed into the first image's directory
	start_counter '.linux.resources.pids = {limit: 50}'
	w checkpoint --image-path "$img" "$ID"
	[ -e "$img/cgroup-updates.jsonl" ] && fail "the reused directory keeps the old image's updates"
	# an updates file the inventory does not list is not applied
	echo '{"pids": {"limit": 7}}' >"$img/cgroup-updates.jsonl"
	w restore --detach --image-path "$img" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	assert_eq 50 "$(cg_limit "$PID" pids)" "pids limit of the never-updated container after restore"
}

test_checkpoint_refuses_mounts_changed_since_create_and_the_container_runs_on() {
	ward_only
	command -v nsenter >/dev/null || skip "nsenter needed"
	start_counter
	mkdir -p "$B/rootfs/mnt"
	nsenter -t "$PID" -m mount -t tmpfs wardtest /mnt
	assert_fail "/mnt (tmpfs) was mounted in the container after create" \
		w checkpoint --image-path "$T/img" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
	nsenter -t "$PID" -m umount /mnt
	nsenter -t "$PID" -m umount /dev/mqueue
	assert_fail "/dev/mqueue (mqueue) was unmounted" w checkpoint --image-path "$T/img" "$ID"
	local n
	n=$(wc -l <"$B/rootfs/count")
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -gt $((n + 5)) ]"
	# the mount table as create left it again: checkpointed
	nsenter -t "$PID" -m mount -t mqueue mqueue /dev/mqueue
	w checkpoint --image-path "$T/img" "$ID"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after restore"
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
	grep -q '"format": 2' "$T/img/inventory.json" || fail "the image is not format 2"
	sed -i 's/"format": 2/"format": 99/' "$T/img/inventory.json"
	assert_fail "format 99" w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "" w state "$ID"
}

# format 1 (sha256 sums): what an older ward wrote is named as such, not misread
test_restore_refuses_a_format_1_image_as_an_older_wards() {
	ward_only
	start_counter
	w checkpoint --image-path "$T/img" "$ID"
	sed -i 's/"format": 2/"format": 1/; s/"xxh128"/"sha256"/' "$T/img/inventory.json"
	assert_fail "format 1 (sha256 sums, written by an older ward)" \
		w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
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

# an image of an unfiltered container is not run unfiltered under a bundle that asks for a filter
test_restore_refuses_a_bundle_with_seccomp_for_an_image_without_filters() {
	ward_only
	start_counter
	w checkpoint --image-path "$T/img" "$ID"
	cfg_set '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}'
	assert_fail "no seccomp filter to restore" \
		w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "" w state "$ID"
}

# ---- seccomp filters -----------------------------------------------------------------------

# "Seccomp:", "Seccomp_filters:", "NoNewPrivs:" and "CapEff:" of a process's status, on one line
seccomp_status() { grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs|CapEff):' "/proc/$1/status" | tr -s '\t\n' '  '; }

# A container with a seccomp profile denying mkdir (EPERM), process.noNewPrivileges $1 and
# without CAP_SYS_ADMIN, counts into /count and tries mkdir on every round (a success is
# written to /made): after restore its processes have the same filters, no_new_privs and
# capabilities, mkdir still fails in the workload and in `ward exec`, and the counting goes on.
checkpoint_restore_keeps_the_seccomp_filter() { # NO_NEW_PRIVILEGES FIRST_DUMP_FLAG
	local before after st_before st_after parent=()
	mkbundle -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/count
		mkdir /d 2>/dev/null && { echo "made $i" >>/made; rmdir /d; }; sleep 0.05; done'
	cfg_set '.root.readonly = false'
	cfg_set ".process.noNewPrivileges = $1"
	cfg_set '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge 5 ]"
	st_before=$(seccomp_status "$PID")
	case "$st_before" in *"Seccomp: 2 Seccomp_filters: "[1-9]*) ;; *) fail "not filtered: $st_before" ;; esac
	case "$st_before" in *"NoNewPrivs: $([ "$1" = true ] && echo 1 || echo 0) "*) ;; *) fail "no_new_privs: $st_before" ;; esac
	# a dump that leaves it running (--leave-running, --pre-dump) suspends its filters while it
	# is stopped, not after
	w checkpoint "$2" --image-path "$T/kept" "$ID"
	assert_eq "$st_before" "$(seccomp_status "$PID")" "seccomp state after $2"
	before=$(wc -l <"$B/rootfs/count")
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	[ ! -e "$B/rootfs/made" ] || fail "mkdir worked after $2: $(cat "$B/rootfs/made")"
	[ "$2" = --pre-dump ] && parent=(--parent-path "$T/kept")
	w checkpoint "${parent[@]}" --image-path "$T/img" "$ID"
	[ -f "$T/img/seccomp.json" ] || fail "no seccomp.json in the image"
	assert_eq 4 "$(jq .format "$T/img/inventory.json")" "format of an image with filters"
	before=$(count_is_sequence) || fail "count broken before restore"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	PID=$(state_field "$ID" .pid)
	st_after=$(seccomp_status "$PID")
	assert_eq "$st_before" "$st_after" "the init's seccomp state after restore"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 10)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
	[ ! -e "$B/rootfs/made" ] || fail "mkdir worked in the restored container: $(cat "$B/rootfs/made")"
	OUT=$("$WARD" --root "$ROOT" exec "$ID" sh -c 'mkdir /e 2>&1; echo "rc=$?"') || true
	assert_contains "$OUT" "Operation not permitted" "mkdir by ward exec"
}

test_checkpoint_restore_keeps_the_seccomp_filter() {
	ward_only
	checkpoint_restore_keeps_the_seccomp_filter true --leave-running
}

# Docker's and Podman's default: no no_new_privs and no CAP_SYS_ADMIN, so the filters can only
# be installed while the restored task still has the restorer's capabilities; with pre-copy
test_checkpoint_restore_keeps_the_seccomp_filter_without_no_new_privileges() {
	ward_only
	checkpoint_restore_keeps_the_seccomp_filter false --pre-dump
}

# a process whose filter hands calls to a listener (SECCOMP_RET_USER_NOTIF) and one in strict
# mode are refused naming the process; the container counts on
seccomp_refused() { # MODE WHY
	run_shmem_container "/seccomp $1 >/out"
	refused_and_counts_on "$2" seccomp
}

test_checkpoint_refuses_a_seccomp_listener_naming_the_process() {
	ward_only
	seccomp_refused notify SECCOMP_RET_USER_NOTIF
}

test_checkpoint_refuses_seccomp_strict_mode_naming_the_process() {
	ward_only
	seccomp_refused strict "seccomp strict mode"
}

# ---- runc's flags (issue 7 item 4) ---------------------------------------------------------

test_checkpoint_and_restore_flags_are_runc_compatible() {
	ward_only
	start_counter
	local before after
	# refused with a reason, never getopt's bare message; the container runs on
	assert_fail "unknown option or missing value: --bogus" w checkpoint --bogus --image-path "$T/img" "$ID"
	assert_contains "$OUT" "ward checkpoint --help" "points at the help"
	assert_fail "established TCP connections are not supported" \
		w checkpoint --tcp-established --image-path "$T/img" "$ID"
	assert_fail "lazy pages are not supported" w checkpoint --lazy-pages --image-path "$T/img" "$ID"
	assert_fail "shell jobs are not supported" w checkpoint --shell-job --image-path "$T/img" "$ID"
	assert_fail "expected soft, full, strict or ignore" \
		w checkpoint --manage-cgroups-mode bogus --image-path "$T/img" "$ID"
	assert_fail "--empty-ns bogus: not a namespace" w checkpoint --empty-ns bogus --image-path "$T/img" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after refused flags"
	w checkpoint --help | grep -q -- '--page-server' || fail "checkpoint --help lacks --page-server"
	# accepted: runc's flags with no effect in ward (documented)
	w checkpoint --work-path "$T/work" --file-locks --manage-cgroups-mode soft --empty-ns network \
		--auto-dedup --image-path "$T/img" "$ID"
	before=$(count_is_sequence) || fail "count broken before restore"
	assert_fail "--console-socket: neither the image nor" \
		w restore --console-socket "$T/sock" --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "unknown option or missing value: --bogus" \
		w restore --bogus --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "ward applies no LSM profile" \
		w restore --lsm-profile apparmor:x --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "established TCP connections are not supported" \
		w restore --tcp-established --image-path "$T/img" --bundle "$B" "$ID"
	assert_fail "" w state "$ID"
	w restore --detach --work-path "$T/work" --file-locks --manage-cgroups-mode full \
		--no-subreaper --auto-dedup --empty-ns network --pid-file "$T/pid" \
		--image-path "$T/img" -b "$B" "$ID"
	assert_eq "$(state_field "$ID" .pid)" "$(cat "$T/pid")" "--pid-file"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
}

# the locks workload (tests/checkpoint/progs/locks) as a container: a POSIX write lock on bytes
# 100..199 of /data/posix, an flock on /data/flock (its description shared with a child), an OFD
# read lock on /data/ofd, counting 0, 1, 2, ... into /count; sets ID, PID
start_locks() {
	local progs=$REPO/build/tests/checkpoint/progs
	[ -x "$progs/locks" ] && [ -x "$progs/locker" ] || skip "no $progs/locks (make)"
	mkbundle -- sh -c '/locks /data >/count'
	cp "$progs/locks" "$progs/locker" "$B/rootfs/"
	mkdir "$B/rootfs/data"
	run_counting
}

# From `ward exec` in the container: the flock is held (flock LOCK_NB fails) and so is the POSIX
# lock (F_GETLK names its holder, printed)
locks_held_inside() {
	local rc
	set +e
	w exec "$ID" /locker -n /data/flock; rc=$?
	set -e
	assert_eq 3 "$rc" "flock -n on /data/flock from ward exec (3: held)"
	set +e
	OUT=$("$WARD" --root "$ROOT" exec "$ID" /locker -p /data/posix); rc=$?
	set -e
	assert_eq 3 "$rc" "F_GETLK on /data/posix from ward exec (3: held)"
	printf '%s\n' "$OUT"
}

test_checkpoint_file_locks_refused_without_the_flag_and_kept_with_it() {
	ward_only
	start_locks
	local holder before after
	holder=$(locks_held_inside)
	# without --file-locks: refused as before, naming the flag; the container runs on
	assert_fail "file locks are saved only with --file-locks" \
		w checkpoint --image-path "$T/img0" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
	before=$(count_is_sequence 0) || fail "count broken"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	w checkpoint --file-locks --image-path "$T/img" "$ID"
	grep -q '"format": 5' "$T/img/inventory.json" || fail "an image with locks is not format 5"
	# the container is gone and its locks with it: the probe below can tell
	flock -n "$B/rootfs/data/flock" true || fail "/data/flock still locked after the checkpoint"
	before=$(count_is_sequence 0) || fail "count broken before restore"
	w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after restore"
	assert_eq "$holder" "$(locks_held_inside)" "the POSIX lock's holder in the container"
	if flock -n "$B/rootfs/data/flock" true; then fail "the host got /data/flock after restore"; fi
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 10)) ]"
	after=$(count_is_sequence 0) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
}

test_checkpoint_refuses_a_container_holding_a_file_lock() {
	ward_only
	local prog=$REPO/build/tests/checkpoint/progs/locker
	[ -x "$prog" ] || skip "no $prog (make)"
	mkbundle -- /locker /lockfile
	cp "$prog" "$B/rootfs/locker"
	cfg_set '.root.readonly = false'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "grep -q ' $PID ' /proc/locks"
	assert_fail "holds a file lock (FLOCK WRITE): file locks are saved only with --file-locks" \
		w checkpoint --image-path "$T/img" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
}

# ---- page server and migration (issue 7 item 5) ------------------------------------------

test_checkpoint_page_server_rounds_then_restore_from_the_receiver() {
	ward_only
	start_counter
	local before after rc
	start_page_server "$T/recv"
	w checkpoint --pre-dump --page-server "127.0.0.1:$PS_PORT" --image-path "$T/meta/pre1" "$ID"
	sleep 0.2
	w checkpoint --pre-dump --parent-path "$T/meta/pre1" --page-server "127.0.0.1:$PS_PORT" \
		--image-path "$T/meta/pre2" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after pre-dumps"
	w checkpoint --parent-path "$T/meta/pre2" --page-server "127.0.0.1:$PS_PORT" \
		--image-path "$T/meta/final" "$ID"
	# the receiver ends after the final image; metadata stayed here, pages went there only
	set +e; wait "$PS_PID"; rc=$?; set -e
	assert_eq 0 "$rc" "page-server exit status ($(cat "$T/ps.out"))"
	assert_contains "$(cat "$T/ps.out")" "image final:" "page-server reports rounds"
	ls "$T"/meta/final/pages-*.img >/dev/null 2>&1 && fail "pages were written locally too"
	[ -f "$T/meta/final/inventory.json" ] || fail "no metadata in --image-path"
	ls "$T"/recv/pre1/pages-*.img >/dev/null || fail "the receiver has no pages"
	grep -q '"parent": "../pre2"' "$T/recv/final/inventory.json" || fail "parent not relative"
	before=$(count_is_sequence) || fail "count broken before restore"
	w restore --detach --image-path "$T/recv/final" --bundle "$B" "$ID"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after restore"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
}

test_checkpoint_page_server_refuses_a_closed_port() {
	ward_only
	start_counter
	local port
	# a port nobody listens on: bind one, close it
	port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport')
	assert_fail "page server 127.0.0.1:$port: connect" \
		w checkpoint --page-server "127.0.0.1:$port" --image-path "$T/img" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after a failed checkpoint"
}

# long_lived_ns_pids INIT: the pids, as the container sees them (NSpid's last), of INIT and of
# its `sleep 1000` child (not of the short sleeps that come and go)
long_lived_ns_pids() {
	local p
	for p in $1 $(pgrep -P "$1" -f 'sleep 1000'); do
		awk '/^NSpid:/ {print $NF}' "/proc/$p/status"
	done | tr '\n' ' '
}

test_migrate_moves_a_counter_to_another_root() {
	ward_only
	mkbundle -- sh -c 'sleep 1000 & i=0; while :; do i=$((i+1)); echo $i >>/count; sleep 0.05; done'
	cfg_set '.root.readonly = false'
	ID=$(newid)
	local root2=$T/root2 before after pids_before pids_after pid2 out
	defer "\"$WARD\" --root '$root2' delete --force '$ID'"
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	PID=$(state_field "$ID" .pid)
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge 5 ]"
	pids_before=$(long_lived_ns_pids "$PID")
	out=$(w migrate --to-root "$root2" --work-path "$T/work" "$ID")
	printf '%s\n' "$out" >&2
	assert_contains "$out" "round 1:" "per-round stats"
	assert_contains "$out" "final round:" "final round stats"
	assert_match "$out" "frozen [0-9]+ ms" "frozen time reported"
	# the source is gone, the destination runs it
	assert_fail "" w state "$ID"
	[ ! -e "$ROOT/$ID" ] || fail "the source --root still has $ID"
	[ -d "/proc/$PID" ] && ! grep -q '^State:.*Z' "/proc/$PID/status" && fail "source init $PID still runs"
	assert_eq running "$("$WARD" --root "$root2" state "$ID" | jq -r .status)" "status under --to-root"
	pid2=$("$WARD" --root "$root2" state "$ID" | jq -r .pid)
	pids_after=$(long_lived_ns_pids "$pid2")
	assert_eq "1 2 " "$pids_before" "pids in the container before"
	assert_eq "$pids_before" "$pids_after" "pids in the container"
	before=$(count_is_sequence) || fail "count broken"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	after=$(count_is_sequence) || fail "count restarted or skipped after the migration"
	[ "$after" -gt "$before" ] || fail "count $before before, $after after"
	# no page server left behind
	pgrep -f "$T/work" >/dev/null && fail "a page server still runs"
	"$WARD" --root "$root2" kill "$ID" KILL
	wait_for 5 sh -c "[ \"\$(\"$WARD\" --root '$root2' state '$ID' | jq -r .status)\" = stopped ]"
	"$WARD" --root "$root2" delete "$ID"
}

test_migrate_precopy_rounds_shrink_for_a_small_working_set() {
	ward_only
	local prog=$REPO/build/tests/checkpoint/progs/dirtier root2=$T/root2 out r1 r2 fin before after
	[ -x "$prog" ] || skip "no $prog (make)"
	mkbundle -- /dirtier 128 2 /count
	cp "$prog" "$B/rootfs/dirtier"
	cfg_set '.root.readonly = false'
	ID=$(newid)
	defer "\"$WARD\" --root '$root2' delete --force '$ID'"
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
	wait_for 10 sh -c "[ \$(wc -l <'$B/rootfs/count' 2>/dev/null || echo 0) -ge 3 ]"
	out=$(w --debug migrate --to-root "$root2" --rounds 4 "$ID")
	printf '%s\n' "$out" >&2
	r1=$(printf '%s\n' "$out" | sed -n 's/.*round 1: \([0-9]*\) bytes.*/\1/p')
	r2=$(printf '%s\n' "$out" | sed -n 's/.*round 2: \([0-9]*\) bytes.*/\1/p')
	fin=$(printf '%s\n' "$out" | sed -n 's/.*final round: \([0-9]*\) bytes.*/\1/p')
	[ -n "$r1" ] && [ -n "$r2" ] && [ -n "$fin" ] || fail "round stats missing: $out"
	# round 1 is the whole heap (128 MiB), later rounds the 2 MiB working set and little else
	[ "$r1" -ge $((128 << 20)) ] || fail "round 1 sent $r1 bytes, less than the heap"
	[ "$r2" -lt $((r1 / 8)) ] || fail "round 2 ($r2) did not shrink from round 1 ($r1)"
	[ "$fin" -lt $((r1 / 8)) ] || fail "final round ($fin) did not shrink from round 1 ($r1)"
	before=$(count_is_sequence) || fail "count broken"
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/count') -ge $((before + 5)) ]"
	after=$(count_is_sequence) || fail "passes restarted, skipped or the memory differs"
	assert_eq running "$("$WARD" --root "$root2" state "$ID" | jq -r .status)" "status under --to-root"
}

# ---- memory shared between processes (issue 7 item 1) -------------------------------------

# the inodes of a process's "/dev/zero (deleted)" VMAs, one a line
shmem_inodes() { awk '/\/dev\/zero \(deleted\)$/ { print $5 }' "/proc/$1/maps"; }

# the last "round N" of the shmem workload's /out
last_round() { awk '/^round / { n = $2 } END { print n + 0 }' "$B/rootfs/out"; }

# once the container's /out has 5 lines: its checkpoint is refused with WHY naming the process
# COMM, and it keeps running and writing to /out
refused_and_counts_on() { # WHY COMM
	local n
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/out') -ge 5 ]"
	assert_fail "$1" w checkpoint --image-path "$T/img" "$ID"
	assert_contains "$OUT" "($2)" "message names the process"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
	n=$(wc -l <"$B/rootfs/out")
	wait_for 5 sh -c "[ \$(wc -l <'$B/rootfs/out') -ge $((n + 5)) ]"
}

# a running container whose sh runs the script $1, with progs/shmem at /shmem and progs/seccomp
# at /seccomp; sets ID
run_shmem_container() {
	local prog=$REPO/build/tests/checkpoint/progs
	[ -x "$prog/shmem" ] && [ -x "$prog/seccomp" ] || skip "no $prog/shmem, seccomp (make)"
	mkbundle -- sh -c "$1"
	cp "$prog/shmem" "$prog/seccomp" "$B/rootfs/"
	cfg_set '.root.readonly = false'
	ID=$(newid)
	w run --detach --bundle "$B" "$ID" </dev/null >/dev/null
}

# a container whose sh runs progs/shmem pair (a parent and child sharing memory) >/out, until
# 100 rounds of their ping-pong are done; sets ID
start_shmem_pair() {
	run_shmem_container '/shmem pair >/out; echo "exit $?" >>/out; while :; do sleep 1; done'
	wait_for 10 sh -c "[ \$(awk '/^round /{n=\$2} END{print n+0}' '$B/rootfs/out') -ge 100 ]"
}

# after restore (the last round before it: $1): the parent and child map one object in all
# their 9 shared VMAs, the game goes on, and both find the memory right (exit 0)
check_shmem_pair_restored() {
	local before=$1 pid parent child inodes
	pid=$(state_field "$ID" .pid)
	parent=$(pgrep -P "$pid" shmem)
	child=$(pgrep -P "$parent" shmem)
	[ -n "$parent" ] && [ -n "$child" ] || fail "no restored shmem parent and child under $pid"
	inodes=$( (shmem_inodes "$parent"; shmem_inodes "$child") | sort -u)
	assert_eq 9 "$( (shmem_inodes "$parent"; shmem_inodes "$child") | wc -l)" "shared VMAs"
	assert_eq 1 "$(printf '%s\n' "$inodes" | wc -l)" "distinct objects [$inodes]"
	# the child answers the restored parent's pings
	wait_for 10 sh -c "[ \$(awk '/^round /{n=\$2} END{print n+0}' '$B/rootfs/out') -ge $((before + 150)) ]"
	kill -USR1 "$parent"
	wait_for 10 grep -q '^exit ' "$B/rootfs/out"
	grep -q '^ok after' "$B/rootfs/out" || fail "shmem workload: $(tail -3 "$B/rootfs/out")"
	assert_eq "exit 0" "$(grep '^exit ' "$B/rootfs/out")" "the workload's status"
}

# restore the shmem pair's container from image $1 (holding one shmem-*.img) and check it
restore_shmem_pair_from() {
	local before
	[ "$(ls "$1" | grep -c '^shmem-.*\.img$')" = 1 ] || fail "not one shmem-*.img in $1"
	before=$(last_round)
	w restore --detach --image-path "$1" --bundle "$B" "$ID"
	check_shmem_pair_restored "$before"
}

test_checkpoint_memory_shared_between_processes_stays_shared() {
	ward_only
	start_shmem_pair
	w checkpoint --image-path "$T/img" "$ID"
	restore_shmem_pair_from "$T/img"
}

# pre-copy does not track shared memory: each round saves it whole, and the chain restores
test_checkpoint_pre_dump_of_shared_memory_restores_shared() {
	ward_only
	start_shmem_pair
	w checkpoint --pre-dump --image-path "$T/pre" "$ID"
	sleep 0.3
	w checkpoint --parent-path "$T/pre" --image-path "$T/img" "$ID"
	restore_shmem_pair_from "$T/img"
}

# through a page server (pre-copy rounds, then the final one held in memory): still one object
test_migrate_moves_memory_shared_between_processes() {
	ward_only
	local root2=$T/root2 before
	start_shmem_pair
	defer "\"$WARD\" --root '$root2' delete --force '$ID'"
	w migrate --to-root "$root2" --work-path "$T/work" "$ID" >&2
	before=$(last_round) # rounds went on during the pre-copy rounds: progress counts from here
	ROOT=$root2 # the container lives there now (w, state_field)
	check_shmem_pair_restored "$before"
}

test_checkpoint_refuses_sysv_shm_in_use_naming_the_process() {
	ward_only
	run_shmem_container '/shmem sysv >/out'
	refused_and_counts_on "SysV shared memory in use" shmem
}

# start_tty_container SCRIPT WORD: a container with a terminal (process.terminal) running
# sh -c SCRIPT, its master sent to a receiver copying into $T/tty1.out; returns once WORD shows
# there. Sets ID.
start_tty_container() {
	start_fd_receiver copy "$T/tty1.sock" "$T/tty1.out" 60
	mkbundle -- sh -c "$1"
	cfg_set '.process.terminal = true'
	ID=$(newid)
	w run --detach --console-socket "$T/tty1.sock" --bundle "$B" "$ID" </dev/null >/dev/null
	wait_for 5 sh -c "grep -q '$2' '$T/tty1.out'"
}

# sh sets its terminal to 33x77 without echo, then prints a counter to it and reads nothing
start_tty_counter() {
	start_tty_container 'stty rows 33 cols 77 -echo; i=0; while :; do i=$((i+1)); echo "n=$i"; sleep 0.05; done' 'n=5'
}

# the counter values printed into FILE (a pty's copy: lines end in \r\n)
tty_counts() { tr -d '\r' <"$1" | sed -n 's/^n=\([0-9]*\)$/\1/p'; }

# tty_counts_on FILE: the counter goes on in FILE (a new terminal's copy) from where it was in
# $T/tty1.out (the old one's, complete), not from 1: what sat unread in the old pty is lost
tty_counts_on() {
	local before first
	before=$(tty_counts "$T/tty1.out" | tail -1)
	wait_for 5 sh -c "[ \$(tr -d '\r' <'$1' | grep -c '^n=') -ge 10 ]"
	first=$(tty_counts "$1" | head -1)
	[ "$first" -gt "$before" ] && [ "$first" -lt $((before + 100)) ] ||
		fail "the counter printed $before last on the old terminal, $first first on the new"
	tty_counts "$1" | awk 'NR > 1 && $1 != prev + 1 { exit 1 } { prev = $1 }' ||
		fail "the count on the new terminal is not a sequence"
}

test_checkpoint_restores_the_containers_terminal() {
	ward_only
	start_tty_counter
	local img=$T/img pid fd l stty
	w checkpoint --image-path "$img" "$ID"
	jq -e '[.fds[] | select(.kind == "tty")] | length == 3' "$img/fds-1.json" >/dev/null ||
		fail "fds 0-2 of the init are not saved as the terminal: $(cat "$img/fds-1.json")"
	sleep 0.3 # the first receiver has read all it will
	start_fd_receiver copy "$T/tty2.sock" "$T/tty2.out" 60
	w restore --detach --console-socket "$T/tty2.sock" --image-path "$img" --bundle "$B" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after restore"
	tty_counts_on "$T/tty2.out"
	pid=$(state_field "$ID" .pid)
	for fd in 0 1 2; do
		l=$(readlink "/proc/$pid/fd/$fd")
		assert_match "$l" '^/dev/pts/[0-9]+$' "fd $fd of the restored init"
	done
	# /proc/pid/stat field 7, tty_nr: the init has a controlling terminal again
	[ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f5)" != 0 ] ||
		fail "the restored init has no controlling terminal: $(cat "/proc/$pid/stat")"
	[ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f6)" = "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f3)" ] ||
		fail "the terminal's foreground group is not the init's: $(cat "/proc/$pid/stat")"
	stty=$(w exec "$ID" sh -c 'stty -a </dev/console')
	assert_contains "$stty" "rows 33" "stty -a on the restored terminal"
	assert_contains "$stty" "columns 77" "stty -a on the restored terminal"
	assert_contains "$stty" " -echo " "stty -a on the restored terminal"
	w kill "$ID" KILL
	wait_for 5 sh -c "[ \"\$(\"$WARD\" --root '$ROOT' state '$ID' | jq -r .status)\" = stopped ]"
	w delete "$ID"
	assert_fail "" w state "$ID"
}

test_checkpoint_restore_of_a_terminal_without_console_socket_is_refused() {
	ward_only
	local d
	start_tty_counter
	w checkpoint --image-path "$T/img" "$ID"
	snapshot
	assert_fail "--console-socket is required" \
		w restore --detach --image-path "$T/img" --bundle "$B" "$ID"
	assert_no_leftovers "$ID"
	for d in /sys/fs/cgroup/*/ward/"$ID"; do [ ! -e "$d" ] || fail "cgroup $d left"; done
	# and the bundle must give the container a terminal
	cfg_set '.process.terminal = false'
	assert_fail "needs process.terminal: true" \
		w restore --detach --console-socket "$T/none.sock" --image-path "$T/img" --bundle "$B" "$ID"
	assert_no_leftovers "$ID"
}

test_checkpoint_refuses_a_pty_the_workload_opened_itself() {
	ward_only
	start_tty_container 'exec 3<>/dev/ptmx; echo opened; while :; do sleep 0.05; done' opened
	assert_fail "cannot be checkpointed" w checkpoint --image-path "$T/img" "$ID"
	assert_contains "$OUT" "(sh) fd 3: /dev/pts/ptmx" "message names the process and fd"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused checkpoint"
}

test_checkpoint_restore_in_the_foreground_relays_the_terminal() {
	ward_only
	start_tty_counter
	local fg rc
	w checkpoint --image-path "$T/img" "$ID"
	sleep 0.3
	# no --console-socket, no -d: ward copies the new terminal to its stdout, as run does
	w restore --image-path "$T/img" --bundle "$B" "$ID" </dev/null >"$T/fg.out" 2>&1 &
	fg=$!
	defer "kill $fg"
	tty_counts_on "$T/fg.out"
	w kill "$ID" KILL
	wait_for 5 sh -c "! kill -0 $fg 2>/dev/null"
	rc=0
	wait "$fg" || rc=$?
	assert_eq 137 "$rc" "the foreground restore's exit status (the init killed)"
}

test_migrate_moves_a_terminal_to_the_new_console_socket() {
	ward_only
	start_tty_counter
	local root2=$T/root2
	defer "\"$WARD\" --root '$root2' delete --force '$ID'"
	# refused before any round without --console-socket: the container runs on
	assert_fail "--console-socket is required" w migrate --to-root "$root2" "$ID"
	assert_eq running "$(state_field "$ID" .status)" "status after a refused migrate"
	start_fd_receiver copy "$T/tty2.sock" "$T/tty2.out" 60
	w migrate --to-root "$root2" --console-socket "$T/tty2.sock" "$ID" >&2
	assert_fail "" w state "$ID"
	tty_counts_on "$T/tty2.out"
	assert_contains "$("$WARD" --root "$root2" exec "$ID" sh -c 'stty -a </dev/console')" \
		"rows 33" "stty -a on the migrated terminal"
}
