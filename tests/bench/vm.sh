#!/bin/bash
# tests/bench/vm.sh [N]: ward's micro-VM containers, measured where KVM can boot Linux (the VM
# lane: `tests/vm/run.sh bench:vm.sh`). Medians of N runs (default 5):
#   ward vm     `ward run --isolation vm` of `true`: create (root disk from the rootfs with
#               mkfs.ext4 -d, also timed alone) + boot + workload exit + delete
#   qemu        qemu-system-x86_64 -M microvm -enable-kvm booting the same kernel and
#               initramfs (ward-init) with the same root disk image (prebuilt) to the same exit
#   ratio       ward vm / qemu (target <= 0.5)
#   jail        `ward run` of `true` as a jail, and ward vm / jail
#   VMM RSS     the VMM's resident memory beyond guest RAM (target <= 5 MiB), while the guest
#               runs `sleep`
# Reports; exits 1 only when something could not be measured at all.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-5}}
WARD=${WARD:-$PWD/build/ward}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
: "${WARD_VM_KERNEL_DIR:=$(cd "$(dirname "$WARD")/.." && pwd)/vm}"
export WARD_VM_KERNEL_DIR
[ -f "$WARD_VM_KERNEL_DIR/initrd.img" ] || { echo "bench: no micro-VM kernel in $WARD_VM_KERNEL_DIR" >&2; exit 1; }
[ -c /dev/kvm ] || { echo "bench: no /dev/kvm" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-bench-vm.XXXXXX)
chmod 0755 "$tmp"
cleanup() {
	local d
	for d in "$tmp/root"/*; do
		[ -e "$d" ] && "$WARD" --root "$tmp/root" delete --force "$(basename "$d")" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

scripts/mkbundle.sh "$tmp/b" true >/dev/null
W() { "$WARD" --root "$tmp/root" "$@"; }

# time_runs NAME CMD...: N runs of CMD (must exit 0), one ms figure per line
time_runs() {
	local name=$1 i t0
	shift
	for ((i = 0; i < N; i++)); do
		t0=$(now_ms)
		"$@" </dev/null >"$tmp/$name.out" 2>&1 || { echo "bench: $name failed: $(tail -n 5 "$tmp/$name.out")" >&2; return 1; }
		echo $(($(now_ms) - t0))
	done
}

i=0
next_id() { i=$((i + 1)); echo "b$i"; }
run_vm() { (cd "$tmp/b" && W run --isolation vm "$(next_id)"); }
run_jail() { (cd "$tmp/b" && W run "$(next_id)"); }

vm_ms=$(time_runs ward-vm run_vm | median)
jail_ms=$(time_runs jail run_jail | median)

# qemu: the same kernel, initramfs and a root disk like ward's, ward-init's job on the command
# line; ward-init's report to port 0xff0 goes nowhere there, so it ends by rebooting (reboot=t:
# a triple fault, which -no-reboot turns into qemu's exit).
qemu_ms=-
if command -v qemu-system-x86_64 >/dev/null; then
	truncate -s 32M "$tmp/root.img"
	mkfs.ext4 -q -F -O ^has_journal -d "$tmp/b/rootfs" "$tmp/root.img" >/dev/null
	run_qemu() {
		qemu-system-x86_64 -M microvm -enable-kvm -cpu host -m 240 -smp 1 -nodefaults \
			-no-user-config -display none -serial stdio -no-reboot \
			-kernel "$WARD_VM_KERNEL_DIR/vmlinuz" -initrd "$WARD_VM_KERNEL_DIR/initrd.img" \
			-drive id=root,file="$tmp/root.img",format=raw,if=none,readonly=on \
			-device virtio-blk-device,drive=root \
			-append "console=ttyS0 reboot=t panic=-1 pci=off i8042.noaux i8042.nopnp quiet loglevel=1 no_timer_check tsc=reliable 8250.nr_uarts=1 cryptomgr.notests random.trust_cpu=on ward.args=echo,BENCH-OK"
	}
	# a panic also ends in qemu's exit: only a run that printed the workload's line counts
	run_qemu_checked() { run_qemu | tee "$tmp/qemu.console" | grep -q BENCH-OK; }
	qemu_ms=$(time_runs qemu run_qemu_checked | median)
else
	echo "bench: qemu-system-x86_64 not in this guest: no qemu figure" >&2
fi

# what ward's create spends on the root disk (mkfs.ext4 -d of the rootfs, as ward runs it)
disk_ms=$(time_runs mkfs mkfs.ext4 -q -F -t ext4 -O ^has_journal -m 0 -d "$tmp/b/rootfs" "$tmp/disk.img" 16M | median)

# the VMM's RSS beyond guest RAM: every mapping but the guest RAM's (the only one >= 64 MiB)
rss_kb=-
(cd "$tmp/b" && jq '.process.args = ["sleep", "30"]' config.json >c.json && mv c.json config.json)
if (cd "$tmp/b" && W run -d --isolation vm rss </dev/null >"$tmp/rss.out" 2>&1); then
	pid=$(W state rss | jq -r .pid)
	sleep 3 # let the guest boot
	rss_kb=$(awk '/^Size:/ { size = $2 } /^Rss:/ { if (size < 65536) sum += $2 } END { print sum }' "/proc/$pid/smaps")
	total_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	W kill rss KILL
	W delete --force rss >/dev/null 2>&1
fi

ratio() { [ "$1" != - ] && [ "$2" != - ] && [ "$2" -gt 0 ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo -; }
echo "vm bench (median of $N; times under TCG are distorted, compare the ratios)"
printf '  %-34s %s ms\n' "ward vm: run true (start->exit)" "$vm_ms"
printf '  %-34s %s ms\n' "  of which the root disk (mkfs)" "$disk_ms"
printf '  %-34s %s ms\n' "qemu -M microvm: same boot" "$qemu_ms"
printf '  %-34s %s (target <= 0.5)\n' "ratio ward vm / qemu" "$(ratio "$vm_ms" "$qemu_ms")"
printf '  %-34s %s ms\n' "ward jail: run true" "$jail_ms"
printf '  %-34s %s\n' "ratio ward vm / jail" "$(ratio "$vm_ms" "$jail_ms")"
printf '  %-34s %s KiB (VmRSS %s KiB; target <= 5120)\n' "VMM RSS beyond guest RAM" "$rss_kb" "${total_kb:--}"
[ "$vm_ms" != - ] && [ "$rss_kb" != - ]
