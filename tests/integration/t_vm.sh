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
