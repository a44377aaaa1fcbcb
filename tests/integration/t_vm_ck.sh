# Checkpoint and restore of VM-isolated containers (runtime/vm_ck.c, vmm_shim/snapshot.c). The
# bare-metal counting guest runs on any /dev/kvm, PVM included; the Linux-guest test needs the
# VM lane. Helpers (vm_need_container, vm_test_kernel_dir, ...) are t_vm.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/t_vm.sh"

# Counts in guest memory (a u64 at 0x300000), prints each count as 8 hex digits and a newline
# to COM1, spins a while, and polls the status port: a posted signal ends it with the signal's
# number as the status. Source: tests/integration/guests/count.S.
VM_CODE_COUNT=bf0000300048ff07488b1f66baf803b11c4889d848d3e8240f04303c3976020407ee80e90479eab00aeeb9e0930400ffc975fc66baf00fec84c074c9eef4ebfd

vm_lines_at_least() { [ "$(grep -cE '^[0-9A-F]{8}$' "$1")" -ge "$2" ]; }
# wait_for with the output file in the failure message
vm_wait_counts() { # SECONDS FILE N
	local end=$(($(date +%s) + $1))
	while ! vm_lines_at_least "$2" "$3"; do
		[ "$(date +%s)" -lt "$end" ] || fail "no $3 counts in $2 after $1 s: $(tail -c 600 "$2")"
		sleep 0.05
	done
}
vm_counts() { grep -E '^[0-9A-F]{8}$' "$1" || true; }

# Start the counting guest detached with its serial output (its stderr) in OUT.
vm_start_counter() { # ID OUT
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_COUNT"
	mkbundle -- true
	w run -d --isolation vm --bundle "$B" "$1" </dev/null >"$2" 2>&1 || fail "run -d: $(cat "$2")"
	wait_for 60 vm_lines_at_least "$2" 3
}

test_vm_container_checkpoint_and_restore_continue_the_guest_count() {
	local id pid last first rc size t0 t1 t2
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	t0=$(date +%s%N)
	w checkpoint --image-path "$T/img" "$id" || fail "checkpoint failed"
	t1=$(date +%s%N)
	wait_for 10 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	for f in inventory.json container.json vm.json vm-mem.img rootfs.img; do
		[ -f "$T/img/$f" ] || fail "no $f in the image: $(ls "$T/img")"
	done
	assert_eq 600 "$(stat -c %a "$T/img/vm-mem.img")" "mode of the memory file"
	last=$(vm_counts "$T/out1" | tail -1)
	(
		set +e
		w restore --image-path "$T/img" --bundle "$B" "$id" </dev/null >"$T/out2" 2>&1
		echo $? >"$T/rc"
	) &
	vm_wait_counts 60 "$T/out2" 2
	t2=$(date +%s%N)
	assert_eq running "$(state_field "$id" .status)" "state after restore"
	first=$(vm_counts "$T/out2" | head -1)
	# the count lives in guest memory and the loop in the vCPU's registers: it goes on from
	# where it was, not from 1. The checkpoint may fall in the middle of a line (its start in
	# out1, its end in out2), so the two outputs are read as one stream: every count there is
	# the one before plus one.
	cat "$T/out1" "$T/out2" | grep -E '^[0-9A-F]{8}$' >"$T/all"
	local prev='' line n
	while read -r line; do
		n=$((16#$line))
		[ -z "$prev" ] || [ "$n" -eq $((prev + 1)) ] ||
			fail "counts not consecutive across the checkpoint: $line after $(printf '%08X' "$prev") (last before: $last, out2 starts: $(head -c 40 "$T/out2" | tr '\n' ' '))"
		prev=$n
	done <"$T/all"
	[ "$((16#$first))" -gt 1 ] && [ "$((16#$first))" -le "$((16#$last + 2))" ] ||
		fail "first whole count after restore $first, last before $last"
	size=$(du -k --apparent-size -s "$T/img" | cut -f1)
	echo "# micro-VM checkpoint $(((t1 - t0) / 1000000)) ms, restore to the second count $(((t2 - t1) / 1000000)) ms, image $size KiB apparent, $(du -k -s "$T/img" | cut -f1) KiB on disk" >&2
	# the restored container is a normal ward container: signals reach the guest, its status
	# is restore's exit status, delete leaves nothing
	w kill "$id" USR1
	wait_for 30 test -s "$T/rc"
	assert_eq 10 "$(cat "$T/rc")" "restore's exit status (output: $(tail -3 "$T/out2"))"
	w delete "$id" 2>/dev/null || true
	assert_no_leftovers "$id"
}

test_vm_container_checkpoint_leave_running_keeps_counting_and_restores_twice() {
	local id id2 pid before
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	w checkpoint --leave-running --image-path "$T/img" "$id" || fail "checkpoint --leave-running"
	assert_eq running "$(state_field "$id" .status)" "state after --leave-running"
	before=$(vm_counts "$T/out1" | wc -l)
	wait_for 30 vm_lines_at_least "$T/out1" $((before + 2))
	kill -0 "$pid" || fail "the VMM is gone"
	w kill "$id" KILL
	wait_for 10 vm_pid_gone "$pid"
	w delete "$id"
	# one image, restored under another id while nothing else runs
	id2=$(newid)
	w restore -d --image-path "$T/img" --bundle "$B" "$id2" </dev/null >"$T/out2" 2>&1 || fail "restore -d: $(cat "$T/out2")"
	vm_wait_counts 60 "$T/out2" 2
	assert_eq running "$(state_field "$id2" .status)" "state of the restored copy"
	w kill "$id2" KILL
	wait_for 10 vm_state_is "$id2" stopped
	w delete "$id2"
	assert_no_leftovers "$id2"
}

test_vm_container_restore_refuses_a_damaged_or_mismatched_image() {
	local id pid
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	w checkpoint --image-path "$T/img" "$id" || fail "checkpoint failed"
	assert_no_leftovers "$id"
	cp -a "$T/img" "$T/bad"
	printf 'x' | dd of="$T/bad/vm-mem.img" bs=1 seek=4096 conv=notrunc status=none
	assert_fail "vm-mem.img: xxh128" w restore -d --image-path "$T/bad" --bundle "$B" "$id"
	assert_no_leftovers "$id"
	# another vCPU count than the image's
	jq '.linux.resources.cpu = {"quota": 200000, "period": 100000}' "$B/config.json" >"$T/c.json"
	mkdir -p "$T/b2"
	cp "$T/c.json" "$T/b2/config.json"
	ln -s "$B/rootfs" "$T/b2/rootfs"
	assert_fail "the image's VM has 1 vCPUs and" \
		w restore -d --image-path "$T/img" --bundle "$T/b2" "$id"
	assert_no_leftovers "$id"
}

# Nothing of container ID on the host: no cgroup directory, no process in its cgroup.
vm_assert_nothing_on_the_host() { # ID
	local d procs
	for d in /sys/fs/cgroup/*/ward/"$1" /sys/fs/cgroup/ward/"$1"; do
		[ ! -e "$d" ] || fail "cgroup $d left behind"
	done
	procs=$(grep -l "/ward/$1\$" /proc/[0-9]*/cgroup 2>/dev/null || true)
	[ -z "$procs" ] || fail "processes of $1 left: $procs"
}

# An image whose every check passes but whose state KVM refuses: restore (detached or not)
# fails with the VMM's message once loading fails, and leaves nothing.
test_vm_container_restore_fails_with_the_vmms_message_when_kvm_refuses_the_state() {
	command -v xxh128sum >/dev/null || skip "xxh128sum (package xxhash) re-sums the edited vm.json"
	local id sum flags
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	w checkpoint --image-path "$T/img" "$id" || fail "checkpoint failed"
	assert_no_leftovers "$id"
	# vCPU 0's struct kvm_mp_state: 10 is no multiprocessing state (KVM_SET_MP_STATE says
	# EINVAL); the sum redone as checkpoint/FORMAT.md documents it (XXH3-128, xxhsum -H2)
	jq '.vcpus[0].mp_state = "0a000000"' "$T/img/vm.json" >"$T/vm.json"
	mv "$T/vm.json" "$T/img/vm.json"
	sum=$(xxh128sum "$T/img/vm.json" | cut -d' ' -f1)
	jq --arg s "$sum" '.xxh128["vm.json"] = $s' "$T/img/inventory.json" >"$T/inv.json"
	mv "$T/inv.json" "$T/img/inventory.json"
	for flags in -d --no-subreaper; do
		assert_fail "KVM_SET_MP_STATE (vCPU 0): Invalid argument" \
			w restore $flags --image-path "$T/img" --bundle "$B" "$id"
		assert_contains "$OUT" "restoring the VM" "restore $flags's message"
		assert_no_leftovers "$id"
		vm_assert_nothing_on_the_host "$id"
	done
}

# ---- pre-copy (KVM's dirty log) ------------------------------------------------------------

# Every count in the files, read as one stream, is the one before plus one.
vm_assert_consecutive() { # FILE...
	local prev='' line n
	cat "$@" | grep -E '^[0-9A-F]{8}$' >"$T/all" || true
	while read -r line; do
		n=$((16#$line))
		[ -z "$prev" ] || [ "$n" -eq $((prev + 1)) ] ||
			fail "counts not consecutive: $line after $(printf '%08X' "$prev")"
		prev=$n
	done <"$T/all"
	[ -n "$prev" ] || fail "no counts in $*"
}

# The guest whose serial output is OUT2 counts on from the last count in OUT1: the first whole
# count there is at most two past it (the checkpoint may cut a line) and the two read as one
# stream are consecutive.
vm_assert_counts_on() { # OUT1 OUT2
	local last first
	last=$(vm_counts "$1" | tail -1)
	vm_wait_counts 60 "$2" 3
	first=$(vm_counts "$2" | head -1)
	vm_assert_consecutive "$1" "$2"
	[ "$((16#$first))" -gt 1 ] && [ "$((16#$first))" -le "$((16#$last + 2))" ] ||
		fail "first whole count after the move $first, last before $last"
}

# Restore IMAGE detached as ID (serial output in OUT2), check that it counts on from OUT1, then
# kill and delete it.
vm_restore_counts_on() { # ID IMAGE OUT1 OUT2
	w restore -d --image-path "$2" --bundle "$B" "$1" </dev/null >"$4" 2>&1 ||
		fail "restore -d of $2: $(cat "$4")"
	defer "'$WARD' --root '$ROOT' kill '$1' KILL 2>/dev/null; sleep 0.5; '$WARD' --root '$ROOT' delete -f '$1' 2>/dev/null || true"
	vm_assert_counts_on "$3" "$4"
	w kill "$1" KILL
	wait_for 10 vm_state_is "$1" stopped
	w delete "$1"
	assert_no_leftovers "$1"
}

test_vm_container_pre_dump_rounds_then_parent_checkpoint_restore_the_count() {
	local id pid before full pre2 final
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	w checkpoint --pre-dump --image-path "$T/pre1" "$id" || fail "pre-dump"
	assert_eq running "$(state_field "$id" .status)" "state after --pre-dump"
	[ ! -e "$T/pre1/rootfs.img" ] || fail "a pre-dump copied the root disk"
	jq -e '.pre_dump == true and (.token | startswith("0x"))' "$T/pre1/vm.json" >/dev/null ||
		fail "pre-dump vm.json: $(head -c 300 "$T/pre1/vm.json")"
	before=$(vm_counts "$T/out1" | wc -l)
	wait_for 30 vm_lines_at_least "$T/out1" $((before + 3))
	w checkpoint --pre-dump --parent-path "$T/pre1" --image-path "$T/pre2" "$id" ||
		fail "second pre-dump round"
	assert_eq "$(jq -r .token "$T/pre1/vm.json")" "$(jq -r .parent_token "$T/pre2/vm.json")" "pre2's parent_token"
	before=$(vm_counts "$T/out1" | wc -l)
	wait_for 30 vm_lines_at_least "$T/out1" $((before + 3))
	kill -0 "$pid" || fail "the VMM is gone after the pre-dumps"
	w checkpoint --parent-path "$T/pre2" --image-path "$T/final" "$id" || fail "final checkpoint"
	wait_for 10 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	assert_eq "$(realpath "$T/pre2")" "$(jq -r .parent "$T/final/inventory.json")" "the final image's parent"
	full=$(stat -c %s "$T/pre1/vm-mem.img")
	pre2=$(stat -c %s "$T/pre2/vm-mem.img")
	final=$(stat -c %s "$T/final/vm-mem.img")
	echo "# guest memory written: full (pre-dump 1) $full B, pre-dump 2 $pre2 B, final $final B" >&2
	[ "$final" -gt 0 ] || fail "the final image has no memory: the count's page, written all the time, was not in the dirty log"
	# PVM logs the count's page alone (4 KiB of 60); real KVM logged 16 KiB in the VM lane
	# (more pages: presumably the page tables whose accessed/dirty bits the CPU sets)
	[ $((final * 3)) -le "$full" ] ||
		fail "the final image's memory ($final B) is not much smaller than the full one ($full B)"
	vm_restore_counts_on "$id" "$T/final" "$T/out1" "$T/out2"
}

# Pre-dump another counting container (bundle B's config with jq EXPR applied) into IMAGE,
# then kill it: its image is a valid pre-copy image of another VM.
vm_other_pre_dump() { # NAME JQ-EXPR IMAGE
	local oid opid
	oid=$(newid)
	mkdir -p "$T/$1"
	jq "$2" "$B/config.json" >"$T/$1/config.json"
	ln -s "$B/rootfs" "$T/$1/rootfs"
	w run -d --isolation vm --bundle "$T/$1" "$oid" </dev/null >"$T/$1.out" 2>&1 || fail "run -d: $(cat "$T/$1.out")"
	defer "'$WARD' --root '$ROOT' kill '$oid' KILL 2>/dev/null; sleep 0.5; '$WARD' --root '$ROOT' delete -f '$oid' 2>/dev/null || true"
	opid=$(state_field "$oid" .pid)
	wait_for 60 vm_lines_at_least "$T/$1.out" 2
	w checkpoint --pre-dump --image-path "$3" "$oid" || fail "pre-dump of $1"
	w kill "$oid" KILL
	wait_for 10 vm_pid_gone "$opid"
	w delete "$oid"
}

test_vm_container_pre_copy_refusals_leave_it_running() {
	local id pid
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	defer "'$WARD' --root '$ROOT' kill '$id' KILL 2>/dev/null; sleep 0.5; '$WARD' --root '$ROOT' delete -f '$id' 2>/dev/null || true"
	# another container's image, of the same RAM and of another
	vm_other_pre_dump same '.' "$T/other"
	vm_other_pre_dump bigger '.linux.resources.memory.limit = 301989888' "$T/bigger"
	w checkpoint --pre-dump --image-path "$T/pre" "$id" || fail "pre-dump"
	assert_fail "is not this VM's latest pre-copy image" \
		w checkpoint --parent-path "$T/other" --image-path "$T/img" "$id"
	assert_fail "the parent image has 272 MiB of guest RAM, this VM 256 MiB" \
		w checkpoint --parent-path "$T/bigger" --image-path "$T/img" "$id"
	# not a VM image
	cp -a "$T/pre" "$T/notvm"
	jq 'del(.xxh128["vm.json"])' "$T/pre/inventory.json" >"$T/notvm/inventory.json"
	assert_fail "lists no vm.json (not a micro-VM image)" \
		w checkpoint --parent-path "$T/notvm" --image-path "$T/img" "$id"
	# a damaged or missing file
	cp -a "$T/pre" "$T/bad"
	printf 'x' | dd of="$T/bad/vm-mem.img" bs=1 seek=100 conv=notrunc status=none
	assert_fail "vm-mem.img: xxh128" \
		w checkpoint --parent-path "$T/bad" --image-path "$T/img" "$id"
	rm "$T/bad/vm-mem.img"
	assert_fail "vm-mem.img" w checkpoint --parent-path "$T/bad" --image-path "$T/img" "$id"
	assert_fail "$T/nothing" w checkpoint --parent-path "$T/nothing" --image-path "$T/img" "$id"
	# a pre-dump alone is no image to restore
	assert_fail "/pre: a pre-dump (its memory was read while the guest ran) is only a parent" w restore -d --image-path "$T/pre" --bundle "$B" "$(newid)"
	assert_eq running "$(state_field "$id" .status)" "state after the refusals"
	kill -0 "$pid" || fail "the VMM died after a refused checkpoint"
	[ ! -e "$T/img" ] || fail "image files left behind: $(ls -A "$T/img")"
	# the right parent still works after the refusals; then a chain with a damaged or missing
	# parent is refused by restore
	w checkpoint --parent-path "$T/pre" --image-path "$T/final" "$id" || fail "final checkpoint"
	wait_for 10 vm_pid_gone "$pid"
	mv "$T/pre/vm-mem.img" "$T/mem.saved"
	assert_fail "vm-mem.img" w restore -d --image-path "$T/final" --bundle "$B" "$id"
	assert_no_leftovers "$id"
	mv "$T/mem.saved" "$T/pre/vm-mem.img"
	printf 'x' | dd of="$T/pre/vm-mem.img" bs=1 seek=100 conv=notrunc status=none
	assert_fail "vm-mem.img: xxh128" w restore -d --image-path "$T/final" --bundle "$B" "$id"
	assert_no_leftovers "$id"
	mv "$T/pre" "$T/pre.moved"
	assert_fail "its parent image" w restore -d --image-path "$T/final" --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_vm_container_checkpoint_to_a_page_server_restores_from_what_it_received() {
	local id pid before rc=0
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	start_page_server "$T/recv"
	# a pre-dump round and the final checkpoint after it, both sent
	w checkpoint --pre-dump --page-server "127.0.0.1:$PS_PORT" --image-path "$T/pre" "$id" ||
		fail "pre-dump to the page server"
	assert_eq running "$(state_field "$id" .status)" "state after the pre-dump"
	before=$(vm_counts "$T/out1" | wc -l)
	wait_for 30 vm_lines_at_least "$T/out1" $((before + 3))
	w checkpoint --page-server "127.0.0.1:$PS_PORT" --parent-path "$T/pre" \
		--image-path "$T/final" "$id" || fail "final checkpoint to the page server"
	wait_for 10 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	wait "$PS_PID" || rc=$?
	assert_eq 0 "$rc" "the page server's exit status after the final image ($(cat "$T/ps.out"))"
	assert_match "$(cat "$T/ps.out")" "image pre: 4 files, [0-9]+ bytes \\([1-9][0-9]* of pages\\)" "the pre-dump received"
	assert_match "$(cat "$T/ps.out")" "image final: 5 files, [0-9]+ bytes \\([1-9][0-9]* of pages\\), final" "the final image received"
	for f in vm.json vm-mem.img rootfs.img; do
		cmp -s "$T/final/$f" "$T/recv/final/$f" || fail "the received $f differs from the sender's"
	done
	assert_eq ../pre "$(jq -r .parent "$T/recv/final/inventory.json")" "the received image's parent"
	# restore from the receiver's copy alone
	rm -rf "$T/pre" "$T/final"
	vm_restore_counts_on "$id" "$T/recv/final" "$T/out1" "$T/out2"
}

# A receiver that hangs up after the image's name: the final checkpoint has stopped the VMM by
# then, so it fails saying where the complete local image is, and that image restores.
test_vm_container_failed_send_of_a_final_checkpoint_keeps_the_local_image() {
	local id pid port
	id=$(newid)
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept(); c.recv(64); c.close()
' "$T/port" &
	defer "kill -9 $! 2>/dev/null || true"
	wait_for 10 test -s "$T/port"
	port=$(cat "$T/port")
	assert_fail "the image is complete in $T/img" \
		w checkpoint --page-server "127.0.0.1:$port" --image-path "$T/img" "$id"
	wait_for 10 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	vm_restore_counts_on "$id" "$T/img" "$T/out1" "$T/out2"
}

test_vm_container_migrate_moves_the_counting_guest_to_another_root() {
	local id pid root2 rc=0 rounds round1 round2 final
	id=$(newid)
	root2=$T/root2
	vm_start_counter "$id" "$T/out1"
	pid=$(state_field "$id" .pid)
	defer "'$WARD' --root '$root2' kill '$id' KILL 2>/dev/null; sleep 0.5; '$WARD' --root '$root2' delete -f '$id' 2>/dev/null || true"
	# the restored VMM's serial output (the counts) goes to migrate's stderr
	w migrate --to-root "$root2" --rounds 3 --bundle "$B" "$id" </dev/null >"$T/mig.out" 2>"$T/out2" || rc=$?
	cat "$T/mig.out" >&2
	assert_eq 0 "$rc" "migrate's exit status ($(grep -v '^[0-9A-F]\{8\}$' "$T/out2" | tail -5))"
	# the source is gone
	wait_for 10 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	assert_eq running "$("$WARD" --root "$root2" state "$id" | jq -r .status)" "state under --to-root"
	# each pre-copy round's bytes, the final round, the downtime, as for a jail
	rounds=$(grep -cE "^migrate $id: round [0-9]+: [0-9]+ bytes" "$T/mig.out")
	[ "$rounds" -ge 1 ] || fail "no pre-copy round printed: $(cat "$T/mig.out")"
	assert_match "$(cat "$T/mig.out")" "migrate $id: final round: [0-9]+ bytes .* frozen [0-9]+ ms" "the final round's line"
	assert_match "$(cat "$T/mig.out")" "restored under $root2 in [0-9]+ ms; downtime [0-9]+ ms \\(frozen [0-9]+ ms\\)" "the downtime line"
	round1=$(sed -nE "s/^migrate $id: round 1: ([0-9]+) bytes.*/\\1/p" "$T/mig.out")
	final=$(sed -nE "s/^migrate $id: final round: ([0-9]+) bytes.*/\\1/p" "$T/mig.out")
	[ "$round1" -gt 0 ] || fail "round 1 sent no guest memory"
	# rounds stop once the dirty set is small (64 pages) or stops shrinking; the final round
	# carries only what the guest wrote since (its count's page)
	if [ "$rounds" -eq 1 ]; then
		[ "$round1" -le $((64 * 4096)) ] ||
			fail "one pre-copy round of $round1 bytes: not a small dirty set, yet no second round"
	else
		round2=$(sed -nE "s/^migrate $id: round 2: ([0-9]+) bytes.*/\\1/p" "$T/mig.out")
		[ "$round2" -lt "$round1" ] || fail "round 2 ($round2 B) did not shrink from round 1 ($round1 B)"
	fi
	[ $((final * 3)) -le "$round1" ] ||
		fail "the final round ($final B) is not much smaller than the first ($round1 B)"
	vm_assert_counts_on "$T/out1" "$T/out2"
	"$WARD" --root "$root2" kill "$id" KILL
	wait_for 10 sh -c "[ \"\$('$WARD' --root '$root2' state '$id' | jq -r .status)\" = stopped ]"
	"$WARD" --root "$root2" delete "$id"
	[ ! -e "$root2/$id" ] || fail "state left under $root2"
	vm_assert_nothing_on_the_host "$id"
}

# ---- a Linux guest (the VM lane) ---------------------------------------------------------------

vm_n_lines_at_least() { [ "$(grep -c '^N ' "$1")" -ge "$2" ]; }

# vm_wait_restored_counts OUT: wait (120 s at most) until the restored Linux guest has printed two count
# lines to OUT; on a timeout or a stopped guest, show its oops and fail.
vm_wait_restored_counts() {
	local end=$(($(date +%s) + 120))
	while ! vm_n_lines_at_least "$1" 2; do
		if [ "$(date +%s)" -ge "$end" ] || grep -q 'the guest stopped' "$1"; then
			sed -n '/\] \(BUG\|Oops\|general protection\|Kernel panic\|invalid opcode\|WARNING\|kernel BUG\)/,+40p' "$1" | head -80 >&2
			fail "no counts after restore: $(tail -c 300 "$1")"
		fi
		sleep 0.1
	done
}

test_vm_container_checkpoint_restores_a_linux_guest_its_counter_and_exec() {
	vm_need_linux_container
	mkbundle -- sh -c 'i=0; while :; do i=$((i + 1)); echo "N $i"; sleep 0.2; done'
	local id last first t0 t1 t2 rc=0
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out1" 2>&1 || fail "run -d: $(cat "$T/out1")"
	wait_for 150 vm_n_lines_at_least "$T/out1" 3
	echo "# running: $(grep -c '^N ' "$T/out1") counts" >&2
	t0=$(date +%s%N)
	w --debug checkpoint --image-path "$T/img" "$id" 2>"$T/ck.log" || fail "checkpoint: $(cat "$T/ck.log")"
	t1=$(date +%s%N)
	echo "# checkpointed in $(((t1 - t0) / 1000000)) ms: $(grep -o 'micro-VM,.*' "$T/ck.log")" >&2
	assert_no_leftovers "$id"
	last=$(grep '^N ' "$T/out1" | tail -1 | cut -d' ' -f2)
	w restore -d --image-path "$T/img" --bundle "$B" "$id" </dev/null >"$T/out2" 2>&1 || fail "restore -d: $(cat "$T/out2")"
	vm_wait_restored_counts "$T/out2"
	t2=$(date +%s%N)
	first=$(grep '^N ' "$T/out2" | head -1 | cut -d' ' -f2)
	# the shell's variable is in guest memory: the count goes on where it was, not from 1
	assert_eq "$((last + 1))" "$first" "first count after restore (last before: $last; out2: $(head -5 "$T/out2"))"
	echo "# Linux micro-VM: checkpoint $(((t1 - t0) / 1000000)) ms, restore to the second count $(((t2 - t1) / 1000000)) ms, image $(du -k --apparent-size -s "$T/img" | cut -f1) KiB apparent, $(du -k -s "$T/img" | cut -f1) KiB on disk; $(grep -o 'micro-VM,.*' "$T/ck.log")" >&2
	# a normal ward container: exec reaches the restored guest, kill and delete work
	OUT=$(timeout 120 "$WARD" --root "$ROOT" exec "$id" sh -c 'echo "EXEC $(cat /proc/1/cmdline | tr "\0" " " | head -c 20)"' </dev/null 2>"$T/err") || rc=$?
	assert_eq 0 "$rc" "exec after restore (stderr: $(cat "$T/err"))"
	assert_contains "$OUT" "EXEC " "exec's output after restore"
	w kill "$id" KILL
	wait_for 30 vm_state_is "$id" stopped
	w delete "$id"
	assert_no_leftovers "$id"
}

# Pre-copy of a Linux guest: between the pre-dump and the final checkpoint the VMM itself writes
# into guest memory (an exec's request and stdin through the console's receive queue, used
# rings): pages KVM's dirty log does not show. Restore must still give the guest consistent
# memory: its shell counts on, and a second exec works.
test_vm_container_checkpoint_with_pre_dump_restores_a_linux_guest() {
	vm_need_linux_container
	mkbundle -- sh -c 'i=0; while :; do i=$((i + 1)); echo "N $i"; sleep 0.2; done'
	local id last first n rc=0
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out1" 2>&1 || fail "run -d: $(cat "$T/out1")"
	defer "'$WARD' --root '$ROOT' kill '$id' KILL 2>/dev/null; sleep 1; '$WARD' --root '$ROOT' delete -f '$id' 2>/dev/null || true"
	wait_for 150 vm_n_lines_at_least "$T/out1" 3
	w --debug checkpoint --pre-dump --image-path "$T/pre" "$id" 2>"$T/ck1.log" || fail "pre-dump: $(cat "$T/ck1.log")"
	assert_eq running "$(state_field "$id" .status)" "state after --pre-dump"
	OUT=$(echo piped | timeout 120 "$WARD" --root "$ROOT" exec "$id" sh -c 'read x; echo "EXEC1 $x"' 2>"$T/err") || rc=$?
	assert_eq 0 "$rc" "exec between the rounds (stderr: $(cat "$T/err"))"
	assert_contains "$OUT" "EXEC1 piped" "exec's output between the rounds"
	n=$(grep -c '^N ' "$T/out1")
	wait_for 60 vm_n_lines_at_least "$T/out1" $((n + 2))
	w --debug checkpoint --parent-path "$T/pre" --image-path "$T/final" "$id" 2>"$T/ck2.log" || fail "final: $(cat "$T/ck2.log")"
	echo "# Linux micro-VM pre-copy: pre-dump $(stat -c %s "$T/pre/vm-mem.img") B of memory ($(grep -o 'paused [0-9]* ms' "$T/ck1.log")), final $(stat -c %s "$T/final/vm-mem.img") B ($(grep -o 'paused [0-9]* ms' "$T/ck2.log"))" >&2
	[ "$(stat -c %s "$T/final/vm-mem.img")" -lt "$(stat -c %s "$T/pre/vm-mem.img")" ] ||
		fail "the final image's memory is not smaller than the pre-dump's"
	assert_no_leftovers "$id"
	last=$(grep '^N ' "$T/out1" | tail -1 | cut -d' ' -f2)
	w restore -d --image-path "$T/final" --bundle "$B" "$id" </dev/null >"$T/out2" 2>&1 || fail "restore -d: $(cat "$T/out2")"
	vm_wait_restored_counts "$T/out2"
	first=$(grep '^N ' "$T/out2" | head -1 | cut -d' ' -f2)
	assert_eq "$((last + 1))" "$first" "first count after restore (last before: $last)"
	rc=0
	OUT=$(timeout 120 "$WARD" --root "$ROOT" exec "$id" sh -c 'echo EXEC2' </dev/null 2>"$T/err") || rc=$?
	assert_eq 0 "$rc" "exec after restore (stderr: $(cat "$T/err"))"
	assert_contains "$OUT" "EXEC2" "exec's output after restore"
	w kill "$id" KILL
	wait_for 30 vm_state_is "$id" stopped
	w delete "$id"
	assert_no_leftovers "$id"
}

test_vm_container_checkpoint_is_refused_while_an_exec_session_is_open() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo READY; while :; do sleep 1; done'
	local id pid epid
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 || fail "run -d: $(cat "$T/out")"
	wait_for 150 grep -q READY "$T/out"
	pid=$(state_field "$id" .pid)
	w exec "$id" sh -c 'echo IN; sleep 100' </dev/null >"$T/exec.out" 2>&1 &
	epid=$!
	wait_for 60 grep -q IN "$T/exec.out"
	assert_fail 'a `ward exec` session is open in the guest' \
		w checkpoint --image-path "$T/img" "$id"
	assert_eq running "$(state_field "$id" .status)" "state after the refused checkpoint"
	kill -0 "$pid" || fail "the VMM died after the refused checkpoint"
	[ ! -e "$T/img" ] || fail "image files left behind: $(ls -A "$T/img")"
	kill -KILL "$epid" 2>/dev/null || true
	wait "$epid" 2>/dev/null || true
	w kill "$id" KILL
	wait_for 30 vm_state_is "$id" stopped
	w delete "$id"
	assert_no_leftovers "$id"
}

# ward migrate of a Linux guest (the VM lane): pre-copy rounds over KVM's dirty log while its
# shell counts, the final round, restore under another --root; the count goes on and exec works.
test_vm_container_migrate_moves_a_linux_guest_to_another_root() {
	vm_need_linux_container
	mkbundle -- sh -c 'i=0; while :; do i=$((i + 1)); echo "N $i"; sleep 0.2; done'
	local id pid root2 last first rc=0
	id=$(newid)
	root2=$T/root2
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out1" 2>&1 || fail "run -d: $(cat "$T/out1")"
	defer "'$WARD' --root '$ROOT' kill '$id' KILL 2>/dev/null; sleep 1; '$WARD' --root '$ROOT' delete -f '$id' 2>/dev/null || true"
	defer "'$WARD' --root '$root2' kill '$id' KILL 2>/dev/null; sleep 1; '$WARD' --root '$root2' delete -f '$id' 2>/dev/null || true"
	pid=$(state_field "$id" .pid)
	wait_for 150 vm_n_lines_at_least "$T/out1" 3
	# the restored guest's stdout is migrate's (its lines among migrate's own)
	w migrate --to-root "$root2" --bundle "$B" "$id" </dev/null >"$T/out2" 2>"$T/mig.err" || rc=$?
	grep '^migrate ' "$T/out2" >&2 || true
	assert_eq 0 "$rc" "migrate's exit status ($(tail -5 "$T/mig.err"))"
	wait_for 30 vm_pid_gone "$pid"
	assert_no_leftovers "$id"
	grep -qE "^migrate $id: round 1: [1-9][0-9]* bytes" "$T/out2" || fail "no pre-copy round: $(grep '^migrate' "$T/out2")"
	grep -qE "^migrate $id: restored under $root2 in [0-9]+ ms; downtime [0-9]+ ms" "$T/out2" ||
		fail "no downtime line: $(grep '^migrate' "$T/out2")"
	last=$(grep '^N ' "$T/out1" | tail -1 | cut -d' ' -f2)
	vm_wait_restored_counts "$T/out2"
	first=$(grep '^N ' "$T/out2" | head -1 | cut -d' ' -f2)
	assert_eq "$((last + 1))" "$first" "first count after migrate (last before: $last)"
	OUT=$(timeout 120 "$WARD" --root "$root2" exec "$id" sh -c 'echo EXEC2' </dev/null 2>"$T/err") || rc=$?
	assert_eq 0 "$rc" "exec after migrate (stderr: $(cat "$T/err"))"
	assert_contains "$OUT" "EXEC2" "exec's output after migrate"
	"$WARD" --root "$root2" kill "$id" KILL
	wait_for 30 sh -c "[ \"\$('$WARD' --root '$root2' state '$id' | jq -r .status)\" = stopped ]"
	"$WARD" --root "$root2" delete "$id"
	[ ! -e "$root2/$id" ] || fail "state left under $root2"
}
