# Container breakout classes: CVE-2019-5736 (overwriting the runtime binary through
# /proc/<pid>/exe) and CVE-2024-21626 (leaked fds, cwd outside the root).

# Use a private copy of the runtime as $WARD so an attack can only damage the copy.
use_runtime_copy() {
	cp "$WARD" "$T/runtime-copy"
	chmod 0755 "$T/runtime-copy"
	WARD=$T/runtime-copy
	SUM_BEFORE=$(sha256sum <"$WARD")
}

assert_runtime_unchanged() {
	assert_eq "$SUM_BEFORE" "$(sha256sum <"$WARD")" "sha256 of the runtime binary"
}

# The container's entrypoint is a script whose interpreter is /proc/self/exe: whatever the
# runtime's init exec's as the container process is the runtime itself.
test_shebang_proc_self_exe_cannot_modify_runtime() {
	use_runtime_copy
	mkbundle -- /evil
	printf '#!/proc/self/exe\n' >"$B/rootfs/evil"
	chmod 0755 "$B/rootfs/evil"
	run_ctr
	assert_runtime_unchanged
}

# The attack of CVE-2019-5736: a process in a container that sees the runtime's init of another
# container (no pid namespace, CAP_SYS_PTRACE) grabs /proc/<pid>/exe, waits until the init has
# exec'd, then opens the same file again for writing through /proc/self/fd.
test_proc_pid_exe_of_runtime_not_writable_from_container() {
	use_runtime_copy
	mkdir -p "$T/x"
	mkbundle "$T/victim" -- true
	local victim
	victim=$(newid)
	w create --bundle "$T/victim" "$victim" </dev/null
	local vpid
	vpid=$(state_field "$victim" .pid)
	mkbundle "$T/attacker" -- sh -c '
		p=$VPID
		readlink /proc/$p/exe >/x/exe-link 2>&1
		echo pwned >>/proc/$p/exe 2>/x/direct-err && echo direct >>/x/result
		exec 3</proc/$p/exe || { echo no-open >>/x/result; touch /x/opened; exit 0; }
		touch /x/opened
		i=0; while [ ! -e /x/go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
		echo pwned >>/proc/self/fd/3 2>/x/reopen-err && echo reopen >>/x/result
		dd if=/dev/zero of=/proc/self/fd/3 bs=1 count=16 conv=notrunc 2>>/x/reopen-err && echo dd >>/x/result
		touch /x/done'
	cfg_set '.linux.namespaces |= map(select(.type != "pid"))
		| .process.env += ["VPID=" + $p]
		| .process.capabilities |= with_entries(.value += ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE"])
		| .mounts += [{"destination": "/x", "type": "bind", "source": $x, "options": ["rbind", "rw"]}]' \
		--arg p "$vpid" --arg x "$T/x"
	local attacker
	attacker=$(newid)
	# detached: no runtime process of the attacker keeps the binary busy
	w run --detach --bundle "$T/attacker" "$attacker" </dev/null >"$T/attacker.out" 2>&1
	wait_for 10 test -e "$T/x/opened"
	# let the victim's init exec its process, so the runtime binary is no longer busy
	w start "$victim"
	sleep 0.3
	touch "$T/x/go"
	wait_for 15 test -e "$T/x/done"
	echo "exe link: $(cat "$T/x/exe-link" 2>/dev/null); result: $(cat "$T/x/result" 2>/dev/null)" >&2
	cat "$T/x/direct-err" "$T/x/reopen-err" >&2 2>/dev/null || true
	assert_runtime_unchanged
}

# A container process writing to its own /proc/self/exe (a busybox the container owns) may
# succeed or not; the runtime binary on the host must not change.
test_runtime_binary_unchanged_after_containers_run() {
	use_runtime_copy
	mkbundle -- sh -c 'for p in /proc/[0-9]*; do echo x 2>/dev/null >>$p/exe; done; true'
	cfg_set '.linux.namespaces |= map(select(.type != "pid"))'
	run_ctr
	assert_runtime_unchanged
}

test_container_sees_only_stdio_fds() {
	# ls (a child: "; true" keeps sh from exec'ing it) lists the shell's fds; a glob in the
	# shell itself would open the directory
	mkbundle -- sh -c 'ls /proc/$$/fd; true'
	run_ok
	assert_eq "0 1 2" "$(echo $OUT)" "fds of the container process"
}

test_preserve_fds_passes_extra_fd() {
	echo passed-content >"$T/extra"
	mkbundle -- sh -c 'ls /proc/$$/fd; cat <&3'
	local out
	out=$(w run --preserve-fds 1 --bundle "$B" "$(newid)" 3<"$T/extra" </dev/null 2>&1)
	assert_eq "0 1 2 3 passed-content" "$(echo $out)" "fds with --preserve-fds 1, then fd 3's content"
}

test_cwd_is_inside_root() {
	mkbundle -- sh -c 'readlink /proc/self/cwd; readlink /proc/self/root'
	run_ok
	assert_eq "/
/" "$OUT" "cwd and root of the container process"
}

# CVE-2024-21626: a cwd through a leaked fd of the runtime lands in a host directory.
test_cwd_through_proc_self_fd_stays_inside() {
	mkbundle -- sh -c 'readlink /proc/self/cwd; cd ../../../../../../..; wc -l </etc/passwd'
	local n
	for n in 3 4 5 6 7 8 9 10; do
		cfg_set '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		run_ctr
		if [ "$RC" = 0 ]; then
			local cwd lines
			cwd=$(echo "$OUT" | sed -n 1p)
			lines=$(echo "$OUT" | sed -n 2p)
			assert_not_contains "$cwd" "unreachable" "cwd through fd $n"
			assert_eq 3 "$lines" "lines of /etc/passwd reached from cwd fd $n (3 = the container's)"
		fi
	done
}
