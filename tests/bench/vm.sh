#!/bin/bash
# tests/bench/vm.sh [N]: ward's micro-VM containers, measured where KVM can boot Linux (the VM
# lane: `tests/vm/run.sh bench:vm.sh`). N rounds (default 9, or BENCH_N), each one run of
# ward vm, of qemu with each kernel file, and of the jail, the order of ward and the qemus
# rotating round by round so that drift and the other load on the machine hit all alike; min
# and median of each.
#
#   ward vm   `ward run --keep --isolation vm` of `true`: create (incl. the root disk from the
#             rootfs) + start + boot + workload exit + the VMM's exit; `ward delete` apart.
#             The rootfs does not change, so after the warm-up run (which builds the disk and
#             caches it) create takes the disk from ward's cache (runtime/vm_disk.c); the
#             warm-up's mkfs is reported on its own line.
#   qemu      qemu-system-x86_64 -M microvm -enable-kvm -cpu host booting the same guest to the
#             same exit, booting the kernel both ways it can: the bzImage (vmlinuz, which the
#             guest decompresses) and, when the kernel dir has it, the vmlinux ward boots
#             (through qemu's PVH entry); ward is compared with the faster of the two. The same
#             initramfs (ward-init) and root disk image (the one
#             ward built in the warm-up run), the same kernel command line (taken from ward's
#             trace, see below), 256 MiB and 1 vCPU as ward's default, a virtio-blk disk and a
#             virtio-serial device with the four ports ward's VMM offers (ward.ctl, ward.stdin,
#             ward.stdout, ward.stderr), so ward-init does the same work on both.
#   ratio     ward vm / qemu (its faster kernel file), min and median (target <= 0.5)
#   jail      `ward run --keep` of `true` as a jail, and ward vm / jail
#   VMM RSS   the VMM's resident memory beyond guest RAM (target <= 5 MiB), while the guest
#             runs `sleep`
#
# What differs between the two, and why:
# - qemu gets ward's command line with reboot=t instead of reboot=k: qemu's microvm has no
#   i8042 to reset through, and the kernel then falls back to a triple fault anyway.
# - the end: ward's VMM stops when ward-init writes the status port (0xff0); qemu does not know
#   that port, so ward-init's write goes to an isa-debugcon (only to check the status is 0)
#   and qemu ends when the guest reboots (a triple fault; -no-reboot makes it exit). That path
#   (sync, reboot(2), the kernel's shutdown) is qemu's cost of not having a status port; the
#   report shows qemu's time to the status write as well.
# - qemu reads the kernel and initrd through its firmware (qboot) and fw_cfg; ward's VMM loads
#   them itself. virtio-serial: qemu reserves port 0 for a console, so it has max_ports=5 (the
#   guest sets up 12 virtqueues instead of 10).
# - ward's runs are traced (WARD_VM_TRACE=1: a dozen lines on stderr and an exit counter);
#   qemu's have the two debugcons. Both cost little and both sides pay theirs.
#
# Phase profile (medians): ward-init writes progress marks to port 0xff1 (1 start, 2 modules
# loaded, 3 root mounted and entered, 4 stdio ports open, 5 workload forked); ward's VMM
# timestamps them in its trace, qemu gets an isa-debugcon there that a reader timestamps.
#
# Reports; exits 1 only when something could not be measured at all.
set -u
cd "$(dirname "$0")/../.."
N=${1:-${BENCH_N:-9}}
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
# microseconds of the wall clock, without a fork
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
# stdin: numbers, one a line; prints "MIN MEDIAN" (the lower median for an even count)
min_median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[1], v[int((NR + 1) / 2)]; else print "- -" }'; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

scripts/mkbundle.sh "$tmp/b" true >/dev/null
sleep 2 # a rootfs must have settled (2 s) for its root disk to be cached
W() { "$WARD" --root "$tmp/root" "$@"; }
fail() { echo "bench: $*" >&2; exit 1; }

# ---- ward -------------------------------------------------------------------------------------
# ward_once ID: one timed `ward run`; its trace in $tmp/ID.err, "T0 T1" in $tmp/ID.t (us); the
# container stays (delete_once removes it)
ward_once() {
	local id=$1 t0 t1
	t0=$(now_us)
	(cd "$tmp/b" && WARD_VM_TRACE=1 W run --keep --isolation vm "$id") </dev/null >"$tmp/$id.out" 2>"$tmp/$id.err" ||
		fail "ward vm $id failed: $(grep -v trace: "$tmp/$id.err" | tail -n 5)"
	t1=$(now_us)
	echo "$t0 $t1" >"$tmp/$id.t"
}
delete_once() {
	local t0
	t0=$(now_us)
	W delete "$1" >"$tmp/delete.out" 2>&1 || fail "ward delete $1: $(tail -n 5 "$tmp/delete.out")"
	echo $(($(now_us) - t0)) >>"$tmp/delete.us"
}
jail_once() {
	local t0
	t0=$(now_us)
	(cd "$tmp/b" && W run --keep "$1") </dev/null >"$tmp/jail.out" 2>&1 || fail "jail failed: $(tail -n 5 "$tmp/jail.out")"
	echo $(($(now_us) - t0)) >>"$tmp/jail.us"
	W delete "$1" >/dev/null 2>&1
}
# ward_phases ID: one line of phase durations (ms) from the run's trace, in WARD_PHASES order
WARD_PHASES=(total "create until mkfs" "mkfs.ext4 root disk" "create rest, start, init"
	"VMM: KVM, RAM, load kernel+initrd" "kernel boot to ward-init" "ward-init: modules"
	"ward-init: root disk, overlay" "ward-init: hostname, stdio ports" "ward-init: fork"
	"workload: exec true, exit" "VMM stop to ward run returns")
ward_phases() {
	local id=$1
	read -r t0 t1 <"$tmp/$id.t"
	awk -v t0="$t0" -v t1="$t1" '
		function us(s) { sub(/\./, "", s); return s + 0 }
		/^ward trace: .* mkfs start/ { m0 = us($3) }
		/^ward trace: .* mkfs done/ { m1 = us($3) }
		/^ward-vmm trace: .* vmm start/ { v0 = us($3) }
		/^ward-vmm trace: .* vcpus start/ { v1 = us($3) }
		/^ward-vmm trace: .* guest mark / { g[$6] = us($3) }
		/^ward-vmm trace: .* guest stop: / { st = us($3) }
		function d(a, b) { return (a && b) ? sprintf("%.1f", (b - a) / 1000) : "-" }
		END {
			print d(t0, t1), d(t0, m0), d(m0, m1), d(m1, v0), d(v0, v1), d(v1, g[1]),
				d(g[1], g[2]), d(g[2], g[3]), d(g[3], g[4]), d(g[4], g[5]), d(g[5], st),
				d(st, t1)
		}' "$tmp/$id.err"
}

# ---- qemu -------------------------------------------------------------------------------------
# a reader of a debugcon's fifo: "TIME_US BYTE" per byte
byte_reader() { while IFS= read -r -n1 -d '' c; do printf '%s %d\n' "${EPOCHREALTIME/./}" "'$c"; done; }
# qemu_once ID KERNEL
qemu_once() {
	local id=$1 kernel=$2 t0 t1 f
	for f in mark status; do
		rm -f "$tmp/q-$f.in" "$tmp/q-$f.out"
		mkfifo "$tmp/q-$f.in" "$tmp/q-$f.out"
	done
	byte_reader <"$tmp/q-mark.out" >"$tmp/$id.marks" &
	byte_reader <"$tmp/q-status.out" >"$tmp/$id.status" &
	t0=$(now_us)
	qemu-system-x86_64 -M microvm -enable-kvm -cpu host -m 256 -smp 1 -nodefaults \
		-no-user-config -display none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$WARD_VM_KERNEL_DIR/initrd.img" \
		-drive id=root,file="$tmp/root.img",format=raw,if=none,readonly=on \
		-device virtio-blk-device,drive=root \
		-device virtio-serial-device,max_ports=5 \
		-chardev null,id=p0 -device virtserialport,chardev=p0,name=ward.ctl \
		-chardev null,id=p1 -device virtserialport,chardev=p1,name=ward.stdin \
		-chardev null,id=p2 -device virtserialport,chardev=p2,name=ward.stdout \
		-chardev null,id=p3 -device virtserialport,chardev=p3,name=ward.stderr \
		-chardev pipe,id=mark,path="$tmp/q-mark" -device isa-debugcon,iobase=0xff1,chardev=mark \
		-chardev pipe,id=status,path="$tmp/q-status" -device isa-debugcon,iobase=0xff0,chardev=status \
		-append "$QEMU_CMDLINE" </dev/null >"$tmp/$id.out" 2>&1
	t1=$(now_us)
	# a reader still waiting in open() (qemu failed before opening its end) gets EOF: an
	# O_RDWR open of a fifo does not block
	for f in mark status; do
		exec {fd}<>"$tmp/q-$f.out"
		exec {fd}>&-
	done
	wait
	echo "$t0 $t1" >"$tmp/$id.t"
	# a panic or a failed setup also ends in qemu's exit: only a run whose guest reported the
	# workload's status 0 counts
	[ "$(awk '{ print $2 }' "$tmp/$id.status")" = 0 ] || {
		echo "bench: qemu $id: the guest did not report status 0 (got '$(cat "$tmp/$id.status")'): $(tail -n 5 "$tmp/$id.out")" >&2
		return 1
	}
}
QEMU_PHASES=(total "qemu setup, firmware, kernel boot to ward-init" "ward-init: modules"
	"ward-init: root disk, overlay" "ward-init: hostname, stdio ports" "ward-init: fork"
	"workload: exec true, exit" "status write to qemu's exit (reboot)")
qemu_phases() {
	local id=$1
	read -r t0 t1 <"$tmp/$id.t"
	awk -v t0="$t0" -v t1="$t1" '
		FILENAME ~ /marks$/ { g[$2] = $1 }
		FILENAME ~ /status$/ { st = $1 }
		function d(a, b) { return (a && b) ? sprintf("%.1f", (b - a) / 1000) : "-" }
		END {
			print d(t0, t1), d(t0, g[1]), d(g[1], g[2]), d(g[2], g[3]), d(g[3], g[4]),
				d(g[4], g[5]), d(g[5], st), d(st, t1)
		}' "$tmp/$id.marks" "$tmp/$id.status"
}

# ---- warm-up: page cache, the root disk and command line for qemu -----------------------------
ward_once warm
mkfs_warm=$(awk '/^ward trace: .* mkfs start/ { a = $3 } /^ward trace: .* mkfs done/ { b = $3 }
	END { if (a && b) printf "%.1f", (b - a) * 1000; else print "-" }' "$tmp/warm.err")
QEMU_CMDLINE=$(sed -n 's/^ward-vmm trace: [0-9.]* guest loaded, cmdline: //p' "$tmp/warm.err" | head -n 1)
[ -n "$QEMU_CMDLINE" ] || fail "no command line in ward's trace: $(head -n 5 "$tmp/warm.err")"
QEMU_CMDLINE=${QEMU_CMDLINE/reboot=k/reboot=t}
cp "$tmp/root/warm/rootfs.img" "$tmp/root.img" || fail "no root disk image in ward's state"
delete_once warm
: >"$tmp/delete.us"
# qemu boots the kernel both ways it can: the bzImage (decompressing it) and, when the kernel
# dir has it, the vmlinux ward boots (through qemu's PVH entry); ward is compared with the
# faster of the two
QEMU_TAGS=()
if command -v qemu-system-x86_64 >/dev/null; then
	qemu_once qwarm-bz "$WARD_VM_KERNEL_DIR/vmlinuz" || fail "qemu cannot boot the guest's vmlinuz"
	QEMU_TAGS+=(bz)
	if [ -f "$WARD_VM_KERNEL_DIR/vmlinux" ]; then
		if qemu_once qwarm-elf "$WARD_VM_KERNEL_DIR/vmlinux"; then
			QEMU_TAGS+=(elf)
		else
			echo "bench: qemu could not boot vmlinux (PVH): only its vmlinuz boot is measured" >&2
		fi
	fi
else
	echo "bench: qemu-system-x86_64 not in this guest: no qemu figure" >&2
fi
qemu_kernel() { [ "$1" = bz ] && echo "$WARD_VM_KERNEL_DIR/vmlinuz" || echo "$WARD_VM_KERNEL_DIR/vmlinux"; }
jail_once jwarm
: >"$tmp/jail.us"

# ---- the rounds -------------------------------------------------------------------------------
# each round runs ward and every qemu variant once, the order rotating round by round
for ((r = 1; r <= N; r++)); do
	runs=(ward "${QEMU_TAGS[@]}")
	for ((k = 0; k < ${#runs[@]}; k++)); do
		what=${runs[(k + r) % ${#runs[@]}]}
		if [ "$what" = ward ]; then
			ward_once "w$r"
		else
			qemu_once "q$what$r" "$(qemu_kernel "$what")" || fail "qemu ($what) round $r"
		fi
	done
	delete_once "w$r"
	jail_once "j$r"
	ward_phases "w$r" >>"$tmp/ward.phases"
	line="ward $(cut -d' ' -f1 <<<"$(tail -n 1 "$tmp/ward.phases")") ms"
	for what in "${QEMU_TAGS[@]}"; do
		qemu_phases "q$what$r" >>"$tmp/qemu-$what.phases"
		line+=", qemu ($what) $(cut -d' ' -f1 <<<"$(tail -n 1 "$tmp/qemu-$what.phases")") ms"
	done
	echo "bench: round $r: $line" >&2
done

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

# where the guest kernel's boot goes: one untimed boot with ward-vmm (same kernel, initramfs,
# disk, command line, but printk on with timestamps and ward-init's stdio on the console), the
# largest gaps between consecutive kernel messages
dmesg_gaps=
ward_kernel=$(sed -n 's/^ward-vmm trace: [0-9.]* kernel \(.*\)/\1/p' "$tmp/warm.err" | head -n 1)
if [ "${BENCH_DMESG:-1}" = 1 ] && [ -x "$(dirname "$WARD")/ward-vmm" ]; then
	dcmd=$(sed 's/ quiet / /; s/loglevel=1/loglevel=7 printk.time=1/; s/ward.stdio=ports/ward.stdio=console/' <<<" $QEMU_CMDLINE ")
	dcmd=${dcmd/reboot=t/reboot=k}
	"$(dirname "$WARD")/ward-vmm" --kernel "$ward_kernel" --initrd "$WARD_VM_KERNEL_DIR/initrd.img" \
		--disk "$tmp/root.img,ro" --mem 256 --cmdline "$dcmd" </dev/null >"$tmp/dmesg.out" 2>&1
	dmesg_gaps=$(awk -F'[][]' '/^\[ *[0-9]+\.[0-9]+\]/ { t = $2 + 0; if (NR > 1 && prev != "") printf "%.3f %s -> %s\n", t - prev, prevmsg, $3; prev = t; prevmsg = $3 }' "$tmp/dmesg.out" | tr -d "\r" |
		sort -rn | head -n 12)
	dmesg_last=$(awk -F'[][]' '/^\[ *[0-9]+\.[0-9]+\]/ { t = $2 } END { print t }' "$tmp/dmesg.out")
fi

# ---- report -----------------------------------------------------------------------------------
# column K of a phases file: "MIN MEDIAN"
col() { awk -v k="$2" '$k != "-" { print $k }' "$1" | min_median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
read -r w_min w_med <<<"$(col "$tmp/ward.phases" 1)"
# qemu: the variant with the lower median
q_min=- q_med=- qs_med=- q_tag=-
for what in "${QEMU_TAGS[@]}"; do
	read -r a b <<<"$(col "$tmp/qemu-$what.phases" 1)"
	if [ "$q_med" = - ] || awk -v a="$b" -v b="$q_med" 'BEGIN { exit !(a < b) }'; then
		q_min=$a q_med=$b q_tag=$what
	fi
done
if [ "$q_tag" != - ]; then
	# qemu to the guest's status write: its total less the reboot path
	read -r _ qs_med <<<"$(awk '$1 != "-" && $8 != "-" { print $1 - $8 }' "$tmp/qemu-$q_tag.phases" | min_median)"
fi
read -r j_min j_med <<<"$(awk '{ print $1 / 1000 }' "$tmp/jail.us" | min_median)"
read -r d_min d_med <<<"$(awk '{ print $1 / 1000 }' "$tmp/delete.us" | min_median)"

echo "vm bench: $N rounds, ward and qemu interleaved; ms, min / median (TCG distorts absolute times: compare ratios)"
echo "  kernel: ward ${ward_kernel:--}; qemu below: its faster way ($q_tag: bz = vmlinuz, elf = vmlinux via PVH)"
printf '  %-44s %8s / %8s\n' "ward vm: run true (start->exit)" "$w_min" "$w_med"
for what in "${QEMU_TAGS[@]}"; do
	read -r a b <<<"$(col "$tmp/qemu-$what.phases" 1)"
	printf '  %-44s %8s / %8s\n' "qemu -M microvm ($what): same guest, to exit" "$a" "$b"
done
printf '  %-44s %8s   %8s\n' "qemu: to the guest's status write" "" "$qs_med"
printf '  %-44s %8s / %8s (target <= 0.5)\n' "ratio ward vm / qemu" "$(ratio "$w_min" "$q_min")" "$(ratio "$w_med" "$q_med")"
printf '  %-44s %8s   %8s\n' "ratio ward vm / qemu to status write" "" "$(ratio "$w_med" "$qs_med")"
printf '  %-44s %8s / %8s\n' "ward jail: run true" "$j_min" "$j_med"
printf '  %-44s %8s / %8s\n' "ratio ward vm / jail" "$(ratio "$w_min" "$j_min")" "$(ratio "$w_med" "$j_med")"
printf '  %-44s %8s / %8s\n' "ward delete (vm), not in the above" "$d_min" "$d_med"
printf '  %-44s %8s   (%s of %s timed runs took the disk from the cache)\n' "ward: uncached root disk mkfs (warm-up)" "$mkfs_warm" \
	"$(cat "$tmp"/w[0-9]*.err | grep -c '^ward trace: .* root disk from the cache')" "$N"
printf '  %-44s %s KiB (VmRSS %s KiB; target <= 5120)\n' "VMM RSS beyond guest RAM" "$rss_kb" "${total_kb:--}"
echo "  phases, ward vm (min / median):"
for k in "${!WARD_PHASES[@]}"; do
	((k)) || continue
	read -r a b <<<"$(col "$tmp/ward.phases" $((k + 1)))"
	printf '    %-42s %8s / %8s\n' "${WARD_PHASES[k]}" "$a" "$b"
done
for what in "${QEMU_TAGS[@]}"; do
	echo "  phases, qemu $what (min / median):"
	for k in "${!QEMU_PHASES[@]}"; do
		((k)) || continue
		read -r a b <<<"$(col "$tmp/qemu-$what.phases" $((k + 1)))"
		printf '    %-42s %8s / %8s\n' "${QEMU_PHASES[k]}" "$a" "$b"
	done
done
echo "  VMM exits to user space by mark (last ward run): $(sed -n 's/^ward-vmm trace: [0-9.]* guest mark \([0-9]*\) (\([0-9]*\) exits so far)/\1:\2/p' "$tmp/w$N.err" | tr '\n' ' ')"
echo "  VMM exits per device (last ward run): $(sed -n 's/^ward-vmm trace: [0-9.]* exits //p' "$tmp/w$N.err")"
echo "  per round, ward / qemu ($q_tag) (ms): $(paste -d/ <(cut -d' ' -f1 "$tmp/ward.phases") <(cut -d' ' -f1 "$tmp/qemu-$q_tag.phases" 2>/dev/null) | tr '\n' ' ')"
if [ -n "$dmesg_gaps" ]; then
	echo "  guest kernel boot with printk on (ward-vmm, untimed): last message at ${dmesg_last} s; largest gaps (s):"
	sed 's/^/    /' <<<"$dmesg_gaps"
fi
[ "$w_med" != - ] && [ "$rss_kb" != - ]
