# Micro-VM (vmm_shim) through build/ward-vmm: the KVM plumbing with a tiny 64-bit guest (runs
# on any working /dev/kvm, PVM included), then a real Linux boot (needs VMX/SVM: the VM lane).
# Env: WARD_VMM (default: ward-vmm next to $WARD), WARD_VM_KERNEL (the guest kernel; default:
# the VM lane's cached Debian cloud kernel), WARD_VM_MODULES (a directory of that kernel's
# decompressed .ko files; default: the VM lane guest's /lib/modules/ward-vm).

: "${WARD_VMM:=$(dirname "$WARD")/ward-vmm}"
: "${WARD_INIT:=$(dirname "$WARD")/ward-init}"
VM_STATUS_PORT=4080 # 0xff0, VMM_STATUS_PORT in vmm_shim/vmm.h

vm_need_kvm() {
	[ -x "$WARD_VMM" ] || skip "ward-vmm not found at $WARD_VMM (make build/ward-vmm)"
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	command -v perl >/dev/null || skip "perl needed to write the test ELF files"
}

# A Linux guest needs hardware virtualisation: PVM emulates guest ring 0 (ENVIRONMENT.md).
vm_need_real_kvm() {
	vm_need_kvm
	[ ! -d /sys/module/kvm_pvm ] || skip "/dev/kvm is PVM: Linux cannot boot here (the VM lane runs this)"
	[ -d /sys/module/kvm_amd ] || [ -d /sys/module/kvm_intel ] || skip "neither kvm_amd nor kvm_intel loaded"
	VM_KERNEL=
	local k
	for k in ${WARD_VM_KERNEL:-} /ward/vm/vmlinuz /var/cache/ward-vm/kernel-*/vmlinuz; do
		[ -f "$k" ] && { VM_KERNEL=$k; break; }
	done
	[ -n "$VM_KERNEL" ] || skip "no guest kernel (set WARD_VM_KERNEL)"
	VM_BUSYBOX=$(command -v busybox) || skip "busybox-static needed for the guest"
	ldd "$VM_BUSYBOX" >/dev/null 2>&1 && skip "busybox is not static"
	command -v cpio >/dev/null || skip "cpio needed for the initramfs"
	return 0
}

# vm_elf OUT VADDR HEX_CODE: a one-segment x86-64 ELF executable whose code (hex bytes) starts
# right after the headers, at VADDR + 0x78, the entry point.
vm_elf() {
	perl -e '
		my ($out, $va, $hex) = @ARGV;
		my $code = pack("H*", $hex);
		$va = hex($va);
		my $len = 64 + 56 + length($code);
		my $eh = pack("a4CCCCx8vvVQ<Q<Q<VvvvvvV", "\x7fELF", 2, 1, 1, 0, 2, 62, 1,
			$va + 0x78, 64, 0, 0, 64, 56, 1, 0, 0, 0);
		$eh = substr($eh, 0, 64);
		my $ph = pack("VVQ<Q<Q<Q<Q<Q<", 1, 7, 0, $va, $va, $len, $len, 0x1000);
		open(my $f, ">", $out) or die "$out: $!";
		binmode $f;
		print $f $eh, $ph, $code;
		close $f;
		chmod 0755, $out;' "$1" "$2" "$3"
}

# A bare-metal 64-bit guest: rep outsb "hello from the guest\n" to COM1, then STATUS to the
# status port, then hlt.
vm_blob() { # OUT STATUS
	local msg
	msg=$(printf 'hello from the guest\n' | od -An -tx1 | tr -d ' \n')
	vm_elf "$1" 200000 "66baf803488d3511000000b9$(printf '%02x' "${#msg}" | head -c 2)000000f36e66baf00fb0$(printf '%02x' "$2")eef4ebfd$msg"
}

# A static Linux program for the guest: iopl(3), then STATUS to the status port (the VM stops;
# the exit(1) after it only runs if the port did nothing).
vm_status_prog() { # OUT STATUS
	vm_elf "$1" 400000 "b8ac000000bf030000000f0566baf00fb0$(printf '%02x' "$2")eeb83c000000bf010000000f05"
}

# vm_initramfs OUT SCRIPT: a busybox initramfs whose /init runs SCRIPT (sh), with
# /bin/report-status-N for N in 0 7.
vm_initramfs() {
	local root=$T/initramfs
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
	cp "$VM_BUSYBOX" "$root/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox --install -s /bin\nmount -t proc proc /proc\n%s\n' "$2" >"$root/init"
	chmod 0755 "$root/init"
	vm_status_prog "$root/bin/report-status-0" 0
	vm_status_prog "$root/bin/report-status-7" 7
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$1"
}

# The first word of a bzImage's version string (setup header field kernel_version, 0x20e).
vm_bzimage_release() {
	perl -e 'open(my $f, "<", $ARGV[0]) or die; binmode $f; read($f, my $b, 0x8000);
		my $o = unpack("v", substr($b, 0x20e, 2)) + 0x200; substr($b, $o) =~ /^(\S+)/; print $1' "$1"
}

test_vm_tiny_guest_prints_and_reports_its_status() {
	vm_need_kvm
	vm_blob "$T/blob.elf" 7
	local rc=0
	OUT=$(timeout 30 "$WARD_VMM" --kernel "$T/blob.elf" --mem 64 </dev/null 2>&1) || rc=$?
	assert_eq 7 "$rc" "ward-vmm exit status"
	assert_eq "hello from the guest" "$OUT" "console"
}

test_vm_tiny_guest_on_four_vcpus_stops_cleanly() {
	vm_need_kvm
	vm_blob "$T/blob.elf" 3
	local rc=0
	OUT=$(timeout 30 "$WARD_VMM" --kernel "$T/blob.elf" --mem 128 --cpus 4 </dev/null 2>&1) || rc=$?
	assert_eq 3 "$rc" "ward-vmm exit status"
	assert_contains "$OUT" "hello from the guest"
}

test_vm_bad_kernel_is_a_clear_error() {
	vm_need_kvm
	head -c 4096 /dev/zero >"$T/junk"
	local rc=0
	OUT=$("$WARD_VMM" --kernel "$T/junk" </dev/null 2>&1) || rc=$?
	assert_eq 125 "$rc" "ward-vmm exit status"
	assert_contains "$OUT" "not a bzImage"
	rc=0
	OUT=$("$WARD_VMM" --kernel "$T/missing" </dev/null 2>&1) || rc=$?
	assert_eq 125 "$rc" "ward-vmm exit status"
	assert_contains "$OUT" "$T/missing"
}

test_vm_too_little_memory_is_refused() {
	vm_need_kvm
	vm_blob "$T/blob.elf" 0
	local rc=0
	OUT=$("$WARD_VMM" --kernel "$T/blob.elf" --mem 16 </dev/null 2>&1) || rc=$?
	assert_eq 125 "$rc" "ward-vmm exit status"
	assert_contains "$OUT" "below the minimum"
}

test_vm_linux_guest_prints_its_own_kernel_release() {
	vm_need_real_kvm
	vm_initramfs "$T/initrd" 'echo "GUEST-RELEASE $(uname -r)"; /bin/report-status-0; reboot -f'
	local rc=0
	OUT=$(timeout 150 "$WARD_VMM" --kernel "$VM_KERNEL" --initrd "$T/initrd" --mem 256 \
		--cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet" </dev/null 2>&1) || rc=$?
	assert_eq 0 "$rc" "ward-vmm exit status (output: $OUT)"
	local rel
	rel=$(printf '%s\n' "$OUT" | tr -d '\r' | sed -n 's/^GUEST-RELEASE //p')
	[ -n "$rel" ] || fail "the guest printed no release: $OUT"
	# the release the booted bzImage names in its header (kernel_version at 0x20e)
	assert_eq "$(vm_bzimage_release "$VM_KERNEL")" "$rel" "guest kernel release"
}

test_vm_linux_guest_exit_status_7_propagates() {
	vm_need_real_kvm
	vm_initramfs "$T/initrd" '/bin/report-status-7; echo "status port did nothing"; reboot -f'
	local rc=0
	OUT=$(timeout 150 "$WARD_VMM" --kernel "$VM_KERNEL" --initrd "$T/initrd" --mem 256 \
		--cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet" </dev/null 2>&1) || rc=$?
	assert_not_contains "$OUT" "status port did nothing"
	assert_eq 7 "$rc" "ward-vmm exit status (output: $OUT)"
}

test_vm_linux_guest_sees_every_vcpu() {
	vm_need_real_kvm
	vm_initramfs "$T/initrd" 'echo "GUEST-CPUS $(grep -c ^processor /proc/cpuinfo)"; /bin/report-status-0'
	local rc=0
	OUT=$(timeout 150 "$WARD_VMM" --kernel "$VM_KERNEL" --initrd "$T/initrd" --mem 256 --cpus 2 \
		--cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet" </dev/null 2>&1) || rc=$?
	assert_eq 0 "$rc" "ward-vmm exit status (output: $OUT)"
	assert_contains "$OUT" "GUEST-CPUS 2"
}

# vm_ward_initramfs OUT MODULE...: ward-init as /init and the named modules (from
# WARD_VM_MODULES, in the order given: dependencies first) as /lib/modules/ward/NAME.ko + order.
vm_ward_initramfs() {
	local out=$1 root=$T/wardinit mods=${WARD_VM_MODULES:-/lib/modules/ward-vm} m
	shift
	mkdir -p "$root/lib/modules/ward"
	cp "$WARD_INIT" "$root/init"
	for m in "$@"; do
		cp "$mods/$m.ko" "$root/lib/modules/ward/" || return 1
		echo "$m" >>"$root/lib/modules/ward/order"
	done
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$out"
}

test_vm_ward_init_runs_the_workload_from_a_read_only_virtio_disk() {
	vm_need_real_kvm
	local mods=${WARD_VM_MODULES:-/lib/modules/ward-vm} m
	[ -x "$WARD_INIT" ] || skip "ward-init not found at $WARD_INIT"
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 needed for the rootfs image"
	for m in virtio virtio_ring virtio_mmio virtio_blk overlay; do
		[ -f "$mods/$m.ko" ] || skip "no $m.ko in $mods (WARD_VM_MODULES)"
	done
	vm_ward_initramfs "$T/initrd" virtio_ring virtio virtio_mmio virtio_blk overlay || fail "initramfs"
	# the rootfs: busybox and a workload that reads the disk, writes through the overlay
	local rf=$T/rootfs
	mkdir -p "$rf/bin" "$rf/etc" "$rf/proc" "$rf/sys" "$rf/dev" "$rf/tmp"
	cp "$VM_BUSYBOX" "$rf/bin/busybox"
	for m in sh cat echo hostname; do ln -s busybox "$rf/bin/$m"; done
	echo "hello from the disk" >"$rf/etc/msg"
	printf '#!/bin/sh\necho "WORKLOAD $(hostname) $1: $(cat /etc/msg) in $(pwd) as $FOO"\necho new >/etc/msg && echo "WROTE $(cat /etc/msg)"\nexit 7\n' >"$rf/bin/workload"
	chmod 0755 "$rf/bin/workload"
	truncate -s 16M "$T/root.img"
	mkfs.ext4 -q -F -d "$rf" "$T/root.img" || fail "mkfs.ext4 -d"
	local before rc=0
	before=$(sha256sum <"$T/root.img")
	OUT=$(timeout 150 "$WARD_VMM" --kernel "$VM_KERNEL" --initrd "$T/initrd" --mem 256 \
		--disk "$T/root.img,ro" --cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet \
ward.args=/bin/workload,first%20arg ward.env=PATH=/bin,FOO=bar ward.cwd=/tmp ward.hostname=wardguest" \
		</dev/null 2>&1) || rc=$?
	OUT=$(printf '%s\n' "$OUT" | tr -d '\r')
	assert_eq 7 "$rc" "ward-vmm exit status (output: $OUT)"
	assert_contains "$OUT" "WORKLOAD wardguest first arg: hello from the disk in /tmp as bar"
	assert_contains "$OUT" "WROTE new"
	assert_eq "$before" "$(sha256sum <"$T/root.img")" "the read-only image is unchanged"
}

# ---- VM-isolated containers (ward run --isolation vm) -----------------------------------------

# A kernel dir for the bare-metal test guests: OUT/vmlinuz is the ELF of HEX_CODE (loaded at
# 0x200000), OUT/initrd.img a placeholder. They run on any /dev/kvm, PVM included
# (WARD_VM_ALLOW_PVM lets ward use it), so the runtime plumbing is tested on the host too.
vm_test_kernel_dir() { # OUT HEX_CODE
	mkdir -p "$1"
	vm_elf "$1/vmlinuz" 200000 "$2"
	echo placeholder >"$1/initrd.img"
	export WARD_VM_KERNEL_DIR=$1 WARD_VM_ALLOW_PVM=1
}
VM_CODE_SPIN=ebfe                               # jmp $
VM_CODE_SIGNAL=66baf00fec84c074fbeef4ebfd       # poll the status port; report the signal read
VM_CODE_HALT=f4ebfd                             # hlt; jmp back: a vCPU that sleeps for good

vm_need_container() {
	vm_need_kvm
	ward_only "VM isolation"
	command -v mkfs.ext4 >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4 >/dev/null ||
		skip "mkfs.ext4 needed for the root disk"
}

# The real guest: the kernel dir the VM lane makes (/ward/vm) or WARD_VM_KERNEL_DIR.
vm_need_linux_container() {
	vm_need_real_kvm
	vm_need_container
	: "${WARD_VM_KERNEL_DIR:=$(cd "$(dirname "$WARD")/.." && pwd)/vm}"
	[ -f "$WARD_VM_KERNEL_DIR/initrd.img" ] ||
		skip "no micro-VM kernel dir at $WARD_VM_KERNEL_DIR (make vm-kernel; WARD_VM_KERNEL_DIR)"
	export WARD_VM_KERNEL_DIR
	unset WARD_VM_ALLOW_PVM
}

vm_pid_gone() { ! kill -0 "$1" 2>/dev/null; }
vm_state_is() { [ "$(state_field "$1" .status 2>/dev/null)" = "$2" ]; }

test_vm_container_vmm_runs_in_the_container_namespaces_cgroup_and_seccomp() {
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_SPIN"
	mkbundle -- true
	local id pid ns
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 || fail "run -d: $(cat "$T/out")"
	pid=$(state_field "$id" .pid)
	assert_eq running "$(state_field "$id" .status)" "state"
	assert_eq vm "$(state_field "$id" '.annotations["org.ward.isolation"]')" "annotation in state"
	assert_match "$(grep '^Seccomp:' "/proc/$pid/status")" '^Seccomp:[[:space:]]+2$' "the VMM's seccomp mode"
	for ns in mnt pid uts ipc; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] ||
			fail "the VMM is in the host's $ns namespace"
	done
	# the container's first process is the VMM itself: the pid namespace is its own
	assert_eq 1 "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" "pid inside the container"
	grep -q "$id" "/proc/$pid/cgroup" || fail "the VMM is not in the container's cgroup: $(cat "/proc/$pid/cgroup")"
	[ -c "/proc/$pid/root/dev/kvm" ] || fail "no /dev/kvm in the container"
	# exec goes to the guest over the control channel, which has no detached mode (255: runc's
	# status for an exec that could not be done)
	local rc=0
	OUT=$(w exec -d "$id" true 2>&1 </dev/null) || rc=$?
	assert_eq 255 "$rc" "exec -d's status (output: $OUT)"
	assert_contains "$OUT" "exec there supports neither"
	w kill "$id" KILL
	wait_for 10 vm_pid_gone "$pid"
	assert_eq stopped "$(state_field "$id" .status)" "state after SIGKILL"
	w delete "$id"
	assert_no_leftovers "$id"
}

test_vm_container_kill_reaches_the_guest() {
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_SIGNAL"
	mkbundle -- true
	local id
	id=$(newid)
	(
		set +e
		w run --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1
		echo $? >"$T/rc"
	) &
	wait_for 30 vm_state_is "$id" running
	w kill "$id" USR1
	wait_for 30 test -s "$T/rc"
	# the test guest reports the signal number it read from the status port as its status
	assert_eq 10 "$(cat "$T/rc")" "ward run's exit status (output: $(cat "$T/out"))"
	assert_no_leftovers "$id"
}

# How many of PID's threads are running or waiting for a CPU (state R): a busy loop is R
# however loaded the machine is, a thread that waits is not.
vm_running_threads() {
	cat /proc/"$1"/task/*/stat 2>/dev/null | awk '{ sub(/.*\) /, ""); if ($1 == "R") n++ } END { print n + 0 }'
}

# A guest with no virtio driver never opens the console's ports: the VMM must still wait, not
# poll, while its stdin (/dev/null) is always readable and an exec client waits to be taken.
test_vm_container_vmm_of_a_sleeping_guest_without_ports_stays_idle() {
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_HALT"
	mkbundle -- true
	local id pid exec_pid busy=0 i
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 || fail "run -d: $(cat "$T/out")"
	pid=$(state_field "$id" .pid)
	"$WARD" --root "$ROOT" exec "$id" true </dev/null >"$T/exec.out" 2>&1 &
	exec_pid=$! # ward itself (w, a function, would run in a subshell)
	defer "kill -KILL $exec_pid 2>/dev/null || true"
	wait_for 60 sh -c "ls -l /proc/$exec_pid/fd | grep -q socket:"
	sleep 0.5
	for i in $(seq 20); do
		[ "$(vm_running_threads "$pid")" = 0 ] || busy=$((busy + 1))
		sleep 0.1
	done
	vm_pid_gone "$pid" && fail "the VMM is gone: $(cat "$T/out")"
	[ "$busy" -lt 10 ] ||
		fail "a VMM thread ran in $busy of 20 samples: $(grep -H . /proc/"$pid"/task/*/wchan | tr '\n' ' ')"
	kill -KILL "$exec_pid" 2>/dev/null || true
	w kill "$id" KILL
	wait_for 10 vm_pid_gone "$pid"
	w delete "$id"
	assert_no_leftovers "$id"
}

# vm_disk_file ID PATH: the content of PATH in container ID's root disk image
vm_disk_file() { debugfs -R "cat $2" "$ROOT/$1/rootfs.img" 2>/dev/null; }
vm_disk_links() { stat -c %h "$ROOT/$1/rootfs.img"; }

test_vm_container_root_disk_cache_never_serves_a_changed_rootfs() {
	vm_need_container
	command -v debugfs >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v debugfs >/dev/null ||
		skip "debugfs needed to read the root disk"
	vm_test_kernel_dir "$T/k" "$VM_CODE_SPIN"
	mkbundle -- true
	echo one >"$B/rootfs/etc/marker"
	local a b c d e
	a=$(newid) b=$(newid) c=$(newid) d=$(newid) e=$(newid)
	# a tree written less than 2 s ago is built, not cached (its ctimes cannot tell changes
	# within one clock tick apart)
	w create --isolation vm --bundle "$B" "$a" >"$T/out" 2>&1 || fail "create: $(cat "$T/out")"
	assert_eq one "$(vm_disk_file "$a" /etc/marker)" "marker in the first image"
	assert_eq 1 "$(vm_disk_links "$a")" "links of an image that must not be cached"
	[ ! -e "$ROOT/@vm-disks" ] || [ -z "$(ls -A "$ROOT/@vm-disks")" ] || fail "a fresh tree was cached"
	w delete "$a"
	sleep 2.5
	# settled: built once and cached, then served from the cache (a hard link)
	w create --isolation vm --bundle "$B" "$b" >"$T/out" 2>&1 || fail "create: $(cat "$T/out")"
	assert_eq 2 "$(vm_disk_links "$b")" "links of the image built for the cache"
	w create --isolation vm --bundle "$B" "$c" >"$T/out" 2>&1 || fail "create: $(cat "$T/out")"
	assert_eq 3 "$(vm_disk_links "$c")" "links of the image served from the cache"
	assert_eq one "$(vm_disk_file "$c" /etc/marker)" "marker in the cached image"
	# the same size and the old mtime: only the ctime tells
	touch -r "$B/rootfs/etc/marker" "$T/mtime"
	echo two >"$B/rootfs/etc/marker"
	touch -r "$T/mtime" "$B/rootfs/etc/marker"
	w create --isolation vm --bundle "$B" "$d" >"$T/out" 2>&1 || fail "create: $(cat "$T/out")"
	assert_eq two "$(vm_disk_file "$d" /etc/marker)" "marker right after the change"
	sleep 2.5
	w create --isolation vm --bundle "$B" "$e" >"$T/out" 2>&1 || fail "create: $(cat "$T/out")"
	assert_eq two "$(vm_disk_file "$e" /etc/marker)" "marker once the change has settled"
	# the containers' deletes leave the cache, which is the root's
	for a in "$b" "$c" "$d" "$e"; do w delete "$a"; done
	[ -n "$(ls -A "$ROOT/@vm-disks")" ] || fail "the cache is empty"
	assert_no_leftovers
}

test_vm_container_prefers_vmlinux_to_vmlinuz() {
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_SPIN"
	vm_blob "$T/k/vmlinuz" 3
	vm_blob "$T/k/vmlinux" 5
	mkbundle -- true
	run_ctr --isolation vm "$(newid)"
	assert_eq 5 "$RC" "the status of the guest booted (vmlinux reports 5, vmlinuz 3; output: $OUT)"
	rm "$T/k/vmlinux"
	run_ctr --isolation vm "$(newid)"
	assert_eq 3 "$RC" "the status without a vmlinux (output: $OUT)"
	assert_no_leftovers
}

test_vm_container_without_a_kernel_is_a_clear_error() {
	vm_need_container
	export WARD_VM_KERNEL_DIR=$T/nokernel
	mkbundle -- true
	local id
	id=$(newid)
	snapshot
	assert_fail "make vm-kernel" w run --isolation vm --bundle "$B" "$id"
	assert_contains "$OUT" "$T/nokernel"
	assert_no_leftovers "$id"
}

test_vm_container_with_too_little_memory_is_refused() {
	vm_need_container
	vm_test_kernel_dir "$T/k" "$VM_CODE_SPIN"
	mkbundle -- true
	cfg_set '.linux.resources.memory.limit = 67108864'
	local id
	id=$(newid)
	snapshot
	assert_fail "too small for a micro-VM" w run --isolation vm --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_vm_container_on_pvm_says_why_it_cannot_run() {
	vm_need_container
	[ -d /sys/module/kvm_pvm ] || skip "/dev/kvm is not PVM here"
	export WARD_VM_KERNEL_DIR=$T/k
	vm_test_kernel_dir "$T/k" "$VM_CODE_SPIN"
	unset WARD_VM_ALLOW_PVM
	mkbundle -- true
	local id
	id=$(newid)
	snapshot
	assert_fail "/dev/kvm is PVM" w run --isolation vm --bundle "$B" "$id"
	assert_no_leftovers "$id"
}

test_vm_container_bad_isolation_values_are_refused() {
	ward_only
	mkbundle -- true
	assert_fail 'neither "vm" nor "jail"' w run --isolation kvm --bundle "$B" "$(newid)"
	cfg_set '.annotations["org.ward.isolation"] = "qemu"'
	assert_fail 'annotations.org.ward.isolation' w run --bundle "$B" "$(newid)"
	assert_no_leftovers
}

test_vm_container_prints_the_guest_kernel_release() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo "RELEASE $(uname -r)"; grep -o "ward.args=[^ ]*" /proc/cmdline'
	run_ctr --isolation vm "$(newid)"
	assert_eq 0 "$RC" "exit status (output: $OUT)"
	assert_contains "$OUT" "RELEASE $(vm_bzimage_release "$WARD_VM_KERNEL_DIR/vmlinuz")"
	# the guest's own command line, not the host's
	assert_contains "$OUT" "ward.args=sh,-c,"
	assert_not_contains "$OUT" $'\r' "output (plain bytes, no CR LF)"
	assert_no_leftovers
}

# scripts/vm-kernel.sh also writes the kernel uncompressed (vmlinux, from the bzImage's
# payload), and ward boots that one: the guest skips its decompressor.
test_vm_container_boots_the_uncompressed_kernel() {
	vm_need_linux_container
	[ "$(od -An -tx1 -N4 "$WARD_VM_KERNEL_DIR/vmlinux" 2>/dev/null | tr -d ' ')" = 7f454c46 ] ||
		fail "no ELF vmlinux in $WARD_VM_KERNEL_DIR: $(ls "$WARD_VM_KERNEL_DIR" | tr '\n' ' ')"
	mkbundle -- sh -c 'echo "RELEASE $(uname -r)"'
	WARD_VM_TRACE=1 run_ctr --isolation vm "$(newid)"
	assert_eq 0 "$RC" "exit status (output: $OUT)"
	assert_contains "$OUT" "kernel $WARD_VM_KERNEL_DIR/vmlinux"
	assert_contains "$OUT" "RELEASE $(vm_bzimage_release "$WARD_VM_KERNEL_DIR/vmlinuz")"
	assert_no_leftovers
}

# ward-init writes the status port with iopl(3); its workload must not inherit that: an `out` to
# the status port faults (SIGSEGV, 128 + 11) instead of reporting the status 9 it writes.
test_vm_container_workload_has_no_port_access() {
	vm_need_linux_container
	mkbundle -- /bin/portpoke
	# mov dx, 0xff0; mov al, 9; out dx, al; exit(1)
	vm_elf "$B/rootfs/bin/portpoke" 400000 "66baf00fb009eeb83c000000bf010000000f05"
	run_ctr --isolation vm "$(newid)"
	assert_eq 139 "$RC" "exit status of a workload writing the status port (output: $OUT)"
	assert_no_leftovers
}

test_vm_container_exit_status_7_propagates() {
	vm_need_linux_container
	mkbundle -- sh -c 'exit 7'
	run_ctr --isolation vm "$(newid)"
	assert_eq 7 "$RC" "exit status (output: $OUT)"
	assert_no_leftovers
}

test_vm_container_memory_limit_cpu_quota_and_rlimits_reach_the_guest() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo "NOFILE $(ulimit -Sn) $(ulimit -Hn)"; grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo'
	cfg_set '.linux.resources.memory.limit = 536870912 | .linux.resources.cpu.quota = 150000 | .linux.resources.cpu.period = 100000'
	cfg_set '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888}]'
	run_ctr --isolation vm "$(newid)"
	assert_eq 0 "$RC" "exit status (output: $OUT)"
	local kb
	kb=$(printf '%s\n' "$OUT" | awk '/^MemTotal:/ { print $2 }')
	[ -n "$kb" ] || fail "no MemTotal in: $OUT"
	# 512 MiB less the VMM's 16 MiB, less what the guest kernel keeps
	[ "$kb" -gt $((400 * 1024)) ] && [ "$kb" -le $((496 * 1024)) ] ||
		fail "guest MemTotal $kb kB is not roughly 512 MiB - 16 MiB"
	assert_eq 2 "$(printf '%s\n' "$OUT" | tail -n 1)" "vCPUs for quota 150000/100000"
	assert_contains "$OUT" "NOFILE 777 888" "the workload's rlimits in the guest"
}

test_vm_container_term_reaches_the_workload() {
	vm_need_linux_container
	mkbundle -- sh -c 'trap "echo GOT-TERM; exit 3" TERM; echo READY; while :; do sleep 0.2; done'
	local id
	id=$(newid)
	(
		set +e
		w run --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1
		echo $? >"$T/rc"
	) &
	wait_for 150 grep -q READY "$T/out"
	w kill "$id" TERM
	wait_for 60 test -s "$T/rc"
	assert_eq 3 "$(cat "$T/rc")" "exit status (output: $(cat "$T/out"))"
	assert_contains "$(cat "$T/out")" GOT-TERM
	assert_no_leftovers "$id"
}

test_vm_container_guest_cannot_read_outside_its_ram() {
	vm_need_linux_container
	# 4 GiB: above the guest's 240 MiB of RAM. Reads there reach no host memory: the VMM
	# answers unclaimed guest-physical addresses with all-ones, or the kernel refuses.
	mkbundle -- sh -c 'dd if=/dev/mem bs=4096 skip=1048576 count=1 2>/dev/null | od -An -v -tx1 | tr -d " \n" >/tmp/m; echo "DEVMEM bytes=$(($(wc -c </tmp/m) / 2)) other=$(tr -d f </tmp/m | wc -c)"'
	run_ctr --isolation vm "$(newid)"
	assert_eq 0 "$RC" "exit status (output: $OUT)"
	assert_match "$OUT" 'DEVMEM bytes=[0-9]+ other=0' "what the guest read at 4 GiB"
}

test_vm_container_guest_panic_is_a_clear_error() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo c >/proc/sysrq-trigger; sleep 5; echo STILL-HERE'
	snapshot
	run_ctr --isolation vm "$(newid)"
	assert_eq 1 "$RC" "exit status (output: $OUT)"
	assert_contains "$OUT" "without reporting the workload's exit status"
	assert_not_contains "$OUT" STILL-HERE
	assert_no_leftovers
}

test_vm_container_exec_runs_a_process_in_the_guest() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo READY; while :; do sleep 1; done'
	local id rc=0
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 || fail "run -d: $(cat "$T/out")"
	wait_for 150 grep -q READY "$T/out"
	OUT=$(w exec -e FOO=bar "$id" sh -c 'echo "EXEC $FOO $(grep -o "ward.args=[^ ]*" /proc/cmdline)"; echo TO-ERR >&2; exit 5' \
		</dev/null 2>"$T/err") || rc=$?
	assert_eq 5 "$rc" "exec's exit status (stdout: $OUT, stderr: $(cat "$T/err"))"
	# the guest's command line: the process runs in the micro-VM, not beside the VMM
	assert_eq "EXEC bar ward.args=sh,-c,echo%20READY%3B%20while%20:%3B%20do%20sleep%201%3B%20done" "$OUT" "exec's stdout"
	assert_contains "$(cat "$T/err")" TO-ERR "exec's stderr"
	# stdin reaches it, its end too; a second exec after the first
	OUT=$(printf 'line one\nline two\n' | w exec "$id" sh -c 'cat; echo "EOF after input"')
	assert_eq $'line one\nline two\nEOF after input' "$OUT" "stdin through exec"
	rc=0
	w exec "$id" /no/such/program </dev/null >"$T/out2" 2>&1 || rc=$?
	assert_eq 127 "$rc" "exec of a missing program (output: $(cat "$T/out2"))"
	w kill "$id" KILL
	wait_for 30 vm_state_is "$id" stopped
	w delete "$id"
	assert_no_leftovers "$id"
}

test_vm_container_stdout_and_stderr_are_separate_streams() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo out; echo err >&2'
	local id rc=0
	id=$(newid)
	w run --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>"$T/err" || rc=$?
	assert_eq 0 "$rc" "exit status (stdout: $(cat "$T/out"), stderr: $(cat "$T/err"))"
	assert_eq out "$(cat "$T/out")" "the container's stdout"
	assert_eq err "$(cat "$T/err")" "the container's stderr"
	assert_no_leftovers "$id"
}

test_vm_container_stdin_from_a_file_ends_at_eof() {
	vm_need_linux_container
	mkbundle -- cat
	printf 'line one\nline two\n' >"$T/in"
	local id rc=0
	id=$(newid)
	timeout 170 "$WARD" --root "$ROOT" run --isolation vm --bundle "$B" "$id" <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq 0 "$rc" "cat's exit status (stderr: $(cat "$T/err"))"
	assert_eq $'line one\nline two' "$(cat "$T/out")" "what cat echoed"
	assert_no_leftovers "$id"
}

# ps in the guest worked and shows no `sleep 4321`
vm_guest_has_no_sleep_4321() {
	local ps
	ps=$(w exec "$1" ps </dev/null 2>/dev/null) || return 1
	case $ps in *PID*) ;; *) return 1 ;; esac
	case $ps in *"sleep 4321"*) return 1 ;; esac
}

test_vm_container_killed_exec_client_leaves_no_orphan() {
	vm_need_linux_container
	mkbundle -- sh -c 'echo READY; while :; do sleep 1; done'
	local id epid rc=0
	id=$(newid)
	w run -d --isolation vm --bundle "$B" "$id" </dev/null >"$T/out" 2>&1 || fail "run -d: $(cat "$T/out")"
	wait_for 150 grep -q READY "$T/out"
	"$WARD" --root "$ROOT" exec "$id" sh -c 'echo STARTED; exec sleep 4321' </dev/null >"$T/e1" 2>&1 &
	epid=$!
	wait_for 60 grep -q STARTED "$T/e1"
	kill -KILL "$epid"
	wait "$epid" 2>/dev/null || true
	# the exec'd process goes with its client; a new exec is not refused as "another exec is still running"
	wait_for 60 vm_guest_has_no_sleep_4321 "$id"
	OUT=$(w exec "$id" sh -c 'echo AFTER' </dev/null 2>&1) || rc=$?
	assert_eq 0 "$rc" "the next exec's status (output: $OUT)"
	assert_eq AFTER "$OUT" "the next exec's output (nothing of the killed one's)"
	w kill "$id" KILL
	wait_for 30 vm_state_is "$id" stopped
	w delete "$id"
	assert_no_leftovers "$id"
}
