# linux.seccomp: the filter is enforced on the container process, the notify listener gets the
# fd and the state, and bad profiles fail create cleanly. busybox mkdir calls mkdir(2) on
# x86_64 (mkdirat elsewhere): rules name both.

# A bundle whose /tmp is a writable tmpfs (the root is read-only).
sc_bundle() {
	mkbundle "$@"
	cfg_set '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]'
}

# A profile that allows everything but the given rule (JSON object).
seccomp_with_rule() { # RULE_JSON
	cfg_set ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\", syscalls: [$1]}"
}

test_seccomp_blocked_syscall_returns_the_configured_errno() {
	sc_bundle
	seccomp_with_rule '{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}'
	sh_ok 'mkdir /tmp/d 2>&1; echo "rc=$?"; [ -d /tmp/d ] && echo made || echo absent'
	assert_contains "$OUT" "Function not implemented"
	assert_contains "$OUT" "rc=1"
	assert_contains "$OUT" "absent"
}

test_seccomp_errno_defaults_to_eperm() {
	sc_bundle
	seccomp_with_rule '{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}'
	sh_ok 'mkdir /tmp/d 2>&1; echo "rc=$?"'
	assert_contains "$OUT" "Operation not permitted"
	assert_contains "$OUT" "rc=1"
}

test_seccomp_other_syscalls_still_work() {
	sc_bundle
	seccomp_with_rule '{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}'
	sh_ok 'echo hi >/tmp/f && cat /tmp/f && ls / >/dev/null && echo done'
	assert_contains "$OUT" "hi"
	assert_contains "$OUT" "done"
}

test_seccomp_kill_process_kills_with_sigsys() {
	sc_bundle
	seccomp_with_rule '{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL_PROCESS"}'
	set_args mkdir /tmp/d
	run_ctr
	assert_eq 159 "$RC" "exit status (128 + SIGSYS)"
}

test_seccomp_arg_filter_blocks_only_the_matching_argument() {
	sc_bundle
	# chmod's mode argument (a1 of chmod, a2 of fchmodat): refuse 0700 only.
	seccomp_with_rule '{names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
		args: [{index: 1, value: 448, op: "SCMP_CMP_EQ"}]},
		{names: ["fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
		args: [{index: 2, value: 448, op: "SCMP_CMP_EQ"}]}'
	sh_ok 'touch /tmp/f; chmod 700 /tmp/f 2>&1; echo "a=$?"; chmod 755 /tmp/f; echo "b=$?"'
	assert_contains "$OUT" "Permission denied"
	assert_contains "$OUT" "a=1"
	assert_contains "$OUT" "b=0"
}

test_seccomp_masked_eq_matches_on_the_masked_bits() {
	sc_bundle
	# (mode & 0o077) == 0: refuse modes that give the group and others nothing.
	seccomp_with_rule '{names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
		args: [{index: 1, value: 63, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"}]},
		{names: ["fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
		args: [{index: 2, value: 63, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"}]}'
	sh_ok 'touch /tmp/f; chmod 700 /tmp/f 2>/dev/null; echo "a=$?"; chmod 750 /tmp/f; echo "b=$?"'
	assert_contains "$OUT" "a=1"
	assert_contains "$OUT" "b=0"
}

test_seccomp_default_action_with_allow_list() {
	ward_only "uses ward spec's default profile"
	sc_bundle
	local prof
	prof=$(cd "$T" && mkdir -p sp && cd sp && "$WARD" spec && jq -c .linux.seccomp config.json)
	[ -n "$prof" ] && [ "$prof" != null ] || fail "ward spec wrote no seccomp profile"
	cfg_set ".linux.seccomp = $prof"
	sh_ok 'echo hi >/tmp/f; cat /tmp/f; mkdir -p /tmp/x/y; ls /tmp/x; cp /tmp/f /tmp/g;
		mv /tmp/g /tmp/h; rm /tmp/h; sleep 0.1 & wait; ps >/dev/null; date >/dev/null;
		id -u; wc -c </tmp/f; echo a | sed s/a/b/; echo ok'
	assert_contains "$OUT" "hi"
	assert_contains "$OUT" "ok"
	# and what it refuses: the capability-gated syscalls get EPERM
	sh_ok 'unshare -U true 2>&1; echo "u=$?"; mount -t tmpfs none /tmp 2>&1; echo "m=$?"'
	assert_contains "$OUT" "u=1"
	assert_contains "$OUT" "m=1"
}

test_seccomp_filter_applies_without_no_new_privileges() {
	sc_bundle
	cfg_set '.process.noNewPrivileges = false'
	seccomp_with_rule '{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}'
	sh_ok 'mkdir /tmp/d 2>&1; grep NoNewPrivs /proc/self/status'
	assert_contains "$OUT" "Function not implemented"
	assert_match "$OUT" "NoNewPrivs:[[:space:]]+0"
}

# Without no_new_privs the filter is loaded before the capabilities go, so ward's own last
# words to its parent run under it: a profile that refuses sendto/sendmsg (no networking)
# must not make create fail (runc's init reports with write(2)).
test_seccomp_refusing_sendto_does_not_break_create_or_exec() {
	sc_bundle
	cfg_set '.process.noNewPrivileges = false'
	seccomp_with_rule '{names: ["sendto", "sendmsg"], action: "SCMP_ACT_ERRNO"}'
	sh_ok 'echo started'
	assert_contains "$OUT" "started"
	set_args sleep 600
	local id
	id=$(newid)
	w run --detach --bundle "$B" "$id" </dev/null >"$T/run.out" 2>&1 ||
		fail "run --detach failed: $(cat "$T/run.out")"
	set +e
	OUT=$(w exec "$id" echo execd </dev/null 2>&1)
	RC=$?
	set -e
	assert_eq 0 "$RC" "exec under a filter refusing sendto: $OUT"
	assert_contains "$OUT" "execd"
}

# Start the test listener; sets LSOCK, LSTATE, LPID.
start_listener() { # ERRNO
	LSOCK=$T/agent.sock LSTATE=$T/agent.json
	"$REPO/build/tests/helpers/seccomp_listener" "$LSOCK" "$LSTATE" "$1" >"$T/agent.out" 2>&1 &
	LPID=$!
	defer "kill $LPID 2>/dev/null"
	wait_for 5 test -S "$LSOCK"
}

test_seccomp_notify_listener_answers_with_an_errno() {
	[ -x "$REPO/build/tests/helpers/seccomp_listener" ] || skip "make the helpers first"
	sc_bundle
	start_listener 13
	cfg_set ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\", listenerPath: \"$LSOCK\",
		listenerMetadata: \"agent-test-meta\",
		syscalls: [{names: [\"mkdir\", \"mkdirat\"], action: \"SCMP_ACT_NOTIFY\"}]}"
	sh_ok 'mkdir /tmp/d 2>&1; echo "rc=$?"'
	assert_contains "$OUT" "Permission denied"
	assert_contains "$OUT" "rc=1"
	wait_for 5 test -s "$LSTATE"
	assert_eq '["seccompFd"]' "$(jq -c .fds "$LSTATE")" "fds"
	assert_eq "agent-test-meta" "$(jq -r .metadata "$LSTATE")" "metadata"
	assert_eq "creating" "$(jq -r .state.status "$LSTATE")" "state.status"
	assert_eq "$(jq -r .pid "$LSTATE")" "$(jq -r .state.pid "$LSTATE")" "pid"
	jq -e '.ociVersion and .state.id and .state.bundle' "$LSTATE" >/dev/null || fail "state incomplete: $(cat "$LSTATE")"
	[ -s "$LSTATE.calls" ] || fail "the listener answered no notification"
}

test_seccomp_notify_listener_can_fake_success() {
	[ -x "$REPO/build/tests/helpers/seccomp_listener" ] || skip "make the helpers first"
	sc_bundle
	start_listener 0
	cfg_set ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\", listenerPath: \"$LSOCK\",
		syscalls: [{names: [\"mkdir\", \"mkdirat\"], action: \"SCMP_ACT_NOTIFY\"}]}"
	sh_ok 'mkdir /tmp/d; echo "rc=$?"; [ -d /tmp/d ] && echo made || echo absent'
	# the agent said "done" without doing it
	assert_contains "$OUT" "rc=0"
	assert_contains "$OUT" "absent"
}

# refused_cleanly run|create WHAT: the command fails on the bundle, its message names WHAT (the
# JSON path; runc's texts differ, so only ward's is checked) and nothing is left behind.
refused_cleanly() {
	snapshot
	assert_fail "" w "$1" --bundle "$B" "$(newid)"
	is_runc || assert_contains "$OUT" "$2"
	assert_no_leftovers
}

test_seccomp_notify_without_listener_path_fails_cleanly() {
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}'
	refused_cleanly run "linux.seccomp.syscalls[0].action"
}

test_seccomp_unreachable_listener_fails_cleanly() {
	mkbundle -- true
	cfg_set ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\", listenerPath: \"$T/nobody.sock\",
		syscalls: [{names: [\"mkdir\"], action: \"SCMP_ACT_NOTIFY\"}]}"
	refused_cleanly run "listenerPath"
}

test_seccomp_unknown_action_fails_cleanly() {
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_EXPLODE"}'
	refused_cleanly create "linux.seccomp.syscalls[0].action"
}

test_seccomp_unknown_arch_fails_cleanly() {
	mkbundle -- true
	cfg_set '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_PDP11"]}'
	refused_cleanly create "linux.seccomp.architectures[0]"
}

test_seccomp_unknown_operator_fails_cleanly() {
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_ERRNO",
		args: [{index: 0, value: 1, op: "SCMP_CMP_ROUGHLY"}]}'
	refused_cleanly create "linux.seccomp.syscalls[0].args[0].op"
}

test_seccomp_arg_index_out_of_range_fails_cleanly() {
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_ERRNO",
		args: [{index: 6, value: 1, op: "SCMP_CMP_EQ"}]}'
	refused_cleanly create "linux.seccomp.syscalls[0].args[0].index"
}

test_seccomp_malformed_args_fail_cleanly() {
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{index: 0, op: "SCMP_CMP_EQ", value: "one"}]}'
	refused_cleanly create "linux.seccomp.syscalls[0].args[0].value"
}

test_seccomp_errno_ret_on_a_non_errno_action_fails_cleanly() {
	ward_only "runc 1.1 ignores errnoRet here"
	mkbundle -- true
	seccomp_with_rule '{names: ["mkdir"], action: "SCMP_ACT_KILL", errnoRet: 5}'
	snapshot
	assert_fail "linux.seccomp.syscalls[0].errnoRet" w create --bundle "$B" "$(newid)"
	assert_no_leftovers
}
