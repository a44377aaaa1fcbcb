#!/bin/bash
# tests/vm/run.sh [PATTERN]: ward's integration tests inside a cgroup-v2-only Debian guest with
# working (emulated SVM) KVM, booted in qemu TCG. Prints the guest's test output, then one final
# line "N passed, M failed" (the tests plus the lane's own kvm_amd_loaded); exit 1 if anything
# failed, the guest panicked or timed out. See tests/vm/README.md.
#
# PATTERN (or VM_PATTERN): which integration tests, as for tests/integration/run.sh; default
# ^test_(cgv2|cgroup|vm)_. Env: WARD_TREE (the ward tree to test, default: this one),
# VM_TIMEOUT (s, default 1800), VM_MEM (MiB, 2048), VM_SMP (2), VM_DISK (MiB of the guest's
# ext4 /tmp, 4096), IT_TIMEOUT (s per test in the guest, 180), VM_STALL (s of console silence
# after which the guest counts as frozen, IT_TIMEOUT + 240), IT_VERBOSE, VM_CACHE
# (/var/cache/ward-vm), KEEP=1 (keep the work dir).
set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATTERN=${1-${VM_PATTERN-^test_(cgv2|cgroup|vm)_}}
VM_TIMEOUT=${VM_TIMEOUT:-1800}
VM_MEM=${VM_MEM:-2048}
VM_SMP=${VM_SMP:-2}
VM_DISK=${VM_DISK:-4096}
VM_CACHE=${VM_CACHE:-/var/cache/ward-vm}
IT_TIMEOUT=${IT_TIMEOUT:-180}
VM_STALL=${VM_STALL:-$((IT_TIMEOUT + 240))}
IT_VERBOSE=${IT_VERBOSE:-0}
KEEP=${KEEP:-0}
# Host tools are looked up in the system directories only (not ~/.local, pyenv, ...): the
# guest gets the same Debian binaries the tests run with on the host.
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin
# Kernel modules the guest loads (their dependencies are added): virtio-blk for /tmp's disk,
# kvm-amd for the micro-VM tests, overlay, loop, veth/bridge/tun/dummy for container networking.
# virtio_mmio, virtio_console: for the micro-VM's own guests (their initramfs carries them).
MODULES="virtio_pci virtio_blk virtio_mmio irqbypass kvm kvm_amd overlay loop veth bridge dummy tun
virtio_console"
# What the integration tests and scripts/mkbundle.sh run, besides coreutils (copied whole) and
# busybox (for everything else). A missing optional tool is left to busybox.
TOOLS="bash dash jq perl python3 find xargs awk mawk sed grep diff cmp getopt mount umount
unshare nsenter mountpoint findmnt setsid flock pgrep pkill ps kill sysctl ip hostname gzip tar"
TOOLS_OPTIONAL="capsh setpriv lsns mkfs.ext4"
# Python modules the tests' helpers may import (console receiver: os, socket, sys, time).
PY_MODULES="os socket sys time json subprocess signal struct array select fcntl termios errno
tempfile shutil re pty encodings.ascii encodings.latin_1"

say() { echo "# vm: $*"; }
# kernel_pkg, fetch_kernel, module_file, add_module: shared with `make vm-kernel`
. "$VM_DIR/../../scripts/vm-kernel.sh"
die() {
	say "$*"
	echo "0 passed, 1 failed"
	exit 1
}
host_bin() { PATH=$SYS_PATH type -P "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { # START_MS: seconds since, one decimal
	local d=$(($(now_ms) - $1))
	printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

lane_start=$(now_ms)
WARD_TREE=$(cd "${WARD_TREE:-$VM_DIR/../..}" 2>/dev/null && pwd) || die "WARD_TREE not found: ${WARD_TREE:-}"
case $VM_TIMEOUT in '' | *[!0-9]*) die "VM_TIMEOUT must be seconds: $VM_TIMEOUT" ;; esac

# ---- host requirements -------------------------------------------------------------------
check_host() {
	local t pkg missing=""
	for t in qemu-system-x86_64:qemu-system-x86 cpio:cpio busybox:busybox-static \
		apt-get:apt apt-cache:apt dpkg:dpkg ldd:libc-bin gzip:gzip flock:util-linux \
		unshare:util-linux nsenter:util-linux jq:jq perl:perl-base python3:python3 \
		ip:iproute2 pgrep:procps diff:diffutils mkfs.ext4:e2fsprogs; do
		pkg=${t#*:}
		t=${t%%:*}
		host_bin "$t" >/dev/null || missing="$missing $pkg($t)"
	done
	[ -z "$missing" ] || die "missing host packages:$missing; run scripts/deps.sh as root"
	ldd "$(host_bin busybox)" >/dev/null 2>&1 &&
		die "busybox is not static (apt-get install busybox-static)"
	mkdir -p "$VM_CACHE" 2>/dev/null && [ -w "$VM_CACHE" ] ||
		die "cache dir $VM_CACHE not writable (run as root or set VM_CACHE)"
}

# ---- work dir, cleanup ---------------------------------------------------------------------
qemu_pid="" stream_pid=""
cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	[ -n "$stream_pid" ] && kill "$stream_pid" 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		say "kept work dir $work"
	else
		rm -rf "$work"
	fi
}

# ---- building the initramfs ------------------------------------------------------------------
# cpio_of DIR OUT: DIR's content as a newc archive, owned by root. Uncompressed: the kernel
# unpacks it with plain copies, where gunzip under TCG would cost seconds per run.
cpio_of() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# guest_path HOST_PATH: where a host file goes in the guest, whose /lib, /lib64 are under /usr
# (as on the host: usrmerge).
guest_path() {
	case $1 in
	/usr/*) echo "$1" ;;
	*) echo "/usr$1" ;;
	esac
}

# put_libs ROOT FILE...: the shared libraries FILEs need (ldd), at their guest paths.
put_libs() {
	local root=$1 lib dest
	shift
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' |
		sort -u | while read -r lib; do
		dest=$root$(guest_path "$lib")
		[ -e "$dest" ] && continue
		mkdir -p "$(dirname "$dest")"
		cp -L "$lib" "$dest"
	done
}

# put_tool ROOT NAME: host tool NAME (in SYS_PATH), symlinks followed, as /usr/bin/NAME.
put_tool() {
	local root=$1 name=$2 src
	src=$(host_bin "$name") || return 1
	[ -e "$root/usr/bin/$name" ] || cp -L "$src" "$root/usr/bin/$name"
}

# put_python ROOT: python3 plus the modules PY_MODULES load (sources, their .pyc, extensions).
put_python() {
	local root=$1 f pyc
	env -i PATH=$SYS_PATH python3 -c '
import importlib, sys
for m in sys.argv[1:]:
    importlib.import_module(m)
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and "-packages/" not in f:
        print(f)' $PY_MODULES | sort -u | while read -r f; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
		case $f in
		*.py)
			pyc=$(dirname "$f")/__pycache__/$(basename "$f" .py).cpython-*.pyc
			for pyc in $pyc; do
				[ -e "$pyc" ] || continue
				mkdir -p "$root$(dirname "$pyc")"
				cp -L "$pyc" "$root$pyc"
			done
			;;
		*.so) put_libs "$root" "$f" ;;
		esac
	done
}

# build_base DIR: the part of the guest that depends only on the host: busybox, the tools and
# their libraries, python, /etc.
build_base() {
	local root=$1 t bb
	mkdir -p "$root"/usr/bin "$root"/usr/lib "$root"/usr/lib64 "$root"/etc "$root"/root \
		"$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/run "$root"/newroot
	ln -s usr/bin "$root/bin"
	ln -s usr/bin "$root/sbin"
	ln -s bin "$root/usr/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	for t in $(PATH=$SYS_PATH dpkg -L coreutils | grep -E '^(/usr)?/s?bin/[^/]+$'); do
		[ -f "$t" ] && [ -x "$t" ] && [ ! -e "$root/usr/bin/${t##*/}" ] && cp -L "$t" "$root/usr/bin/"
	done
	for t in $TOOLS; do
		put_tool "$root" "$t" || { say "host tool missing: $t"; return 1; }
	done
	for t in $TOOLS_OPTIONAL; do
		put_tool "$root" "$t" || true
	done
	ln -sf dash "$root/usr/bin/sh"
	put_python "$root" || return 1
	put_libs "$root" "$root"/usr/bin/* || return 1
	bb=$(host_bin busybox)
	cp -L "$bb" "$root/usr/bin/busybox"
	for t in $("$bb" --list); do
		[ -e "$root/usr/bin/$t" ] || [ -L "$root/usr/bin/$t" ] || ln -s busybox "$root/usr/bin/$t"
	done
	cat >"$root/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/bash
	user:x:1000:1000:user:/home/user:/bin/sh
	nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
	EOF
	cat >"$root/etc/group" <<-'EOF'
	root:x:0:
	tty:x:5:
	user:x:1000:
	nogroup:x:65534:
	EOF
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
	printf '127.0.0.1 localhost ward-vm\n::1 localhost\n' >"$root/etc/hosts"
	echo ward-vm >"$root/etc/hostname"
}

# The base archive is rebuilt when this script, the host tools or the installed packages change.
base_key() {
	local t
	{
		cat "$VM_DIR/run.sh"
		for t in $TOOLS $TOOLS_OPTIONAL busybox; do
			host_bin "$t" || true
		done | xargs -r stat -L -c '%n %s %Y'
		stat -c '%Y' /var/lib/dpkg/status
	} | sha256sum | cut -c1-16
}

# prepare_kernel: VM_CACHE/kernel-PKG/{vmlinuz,modules.cpio}, made once per kernel package
# (and list of modules).
prepare_kernel() {
	local pkg k m
	pkg=$(kernel_pkg)
	if [ -n "$pkg" ] && [ -e "$VM_CACHE/kernel-$pkg/ok" ] &&
		[ "$(cat "$VM_CACHE/kernel-$pkg/modules.list" 2>/dev/null)" = "$MODULES" ]; then
		KERNEL_DIR=$VM_CACHE/kernel-$pkg
		return 0
	fi
	if [ -z "$pkg" ]; then
		# no apt lists: any kernel already cached will do
		KERNEL_DIR=$(ls -d "$VM_CACHE"/kernel-*/ok 2>/dev/null | sort -V | tail -n 1)
		KERNEL_DIR=${KERNEL_DIR%/ok}
		[ -n "$KERNEL_DIR" ] && return 0
	fi
	say "fetching the Debian cloud kernel ${pkg:-(after apt-get update)}"
	k=$work/kernel
	fetch_kernel "$k" "$work" || return 1
	pkg=$(basename "$k"/boot/vmlinuz-*)
	pkg=linux-image-${pkg#vmlinuz-}
	m=$work/kmods
	mkdir -p "$m/lib/modules/ward-vm"
	find "$k"/lib/modules/*/kernel -name '*.ko*' >"$k/.index"
	for name in $MODULES; do
		add_module "$k" "$m/lib/modules/ward-vm" "$name" || return 1
	done
	KERNEL_DIR=$VM_CACHE/kernel-$pkg
	rm -rf "$KERNEL_DIR.new"
	mkdir -p "$KERNEL_DIR.new"
	cp "$k"/boot/vmlinuz-* "$KERNEL_DIR.new/vmlinuz"
	cpio_of "$m" "$KERNEL_DIR.new/modules.cpio" || return 1
	echo "$MODULES" >"$KERNEL_DIR.new/modules.list"
	echo "$pkg" >"$KERNEL_DIR.new/ok"
	rm -rf "$KERNEL_DIR" "$k" "$m"
	mv "$KERNEL_DIR.new" "$KERNEL_DIR"
}

# prepare_base: VM_CACHE/base-KEY.cpio.
prepare_base() {
	local key
	key=$(base_key)
	BASE_CPIO=$VM_CACHE/base-$key.cpio
	[ -e "$BASE_CPIO" ] && return 0
	say "building the guest's host-tool base ($BASE_CPIO)"
	rm -rf "$work/base"
	build_base "$work/base" || return 1
	cpio_of "$work/base" "$BASE_CPIO.new" || return 1
	rm -f "$VM_CACHE"/base-*.cpio
	mv "$BASE_CPIO.new" "$BASE_CPIO"
	rm -rf "$work/base"
}

# build_tree DIR: what changes every run: /init, the run's parameters, ward and its tests.
build_tree() {
	local root=$1
	mkdir -p "$root/ward/build" "$root/ward/tests" "$root/etc"
	cp "$VM_DIR/init" "$root/init"
	chmod 0755 "$root/init"
	printf '%s\n' "$TOKEN" "$PATTERN" "$IT_TIMEOUT" "$IT_VERBOSE" >"$root/etc/ward-vm.conf"
	cp -L "$WARD_TREE/build/ward" "$root/ward/build/ward"
	put_libs "$root" "$root/ward/build/ward"
	cp -a "$WARD_TREE/tests/integration" "$root/ward/tests/"
	cp -a "$WARD_TREE/scripts" "$root/ward/"
	# benchmarks (PATTERN "bench:SCRIPT"), with the host's runc and crun as peers
	cp -a "$WARD_TREE/tests/bench" "$root/ward/tests/"
	local peer
	for peer in runc crun; do
		peer=$(command -v "$peer") || continue
		mkdir -p "$root/usr/bin"
		cp -L "$peer" "$root/usr/bin/"
		put_libs "$root" "$peer"
	done
	# the VM benchmark's peer: qemu -M microvm with its libraries and the firmware it loads
	# (only for that run: it adds ~40 MiB to the initrd)
	case $PATTERN in
	bench:vm*)
		local q f
		if q=$(host_bin qemu-system-x86_64); then
			cp -L "$q" "$root/usr/bin/"
			put_libs "$root" "$q"
			mkdir -p "$root/usr/share/qemu"
			for f in qboot.rom bios-microvm.bin linuxboot_dma.bin pvh.bin; do
				[ ! -e "/usr/share/qemu/$f" ] || cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
			done
		fi
		;;
	esac
	# the micro-VM tests (test_vm_*): the VMM next to ward, and this lane's kernel as the guest's
	if [ -x "$WARD_TREE/build/ward-vmm" ]; then
		cp -L "$WARD_TREE/build/ward-vmm" "$root/ward/build/ward-vmm"
		put_libs "$root" "$root/ward/build/ward-vmm"
		[ ! -x "$WARD_TREE/build/ward-init" ] || cp -L "$WARD_TREE/build/ward-init" "$root/ward/build/"
		mkdir -p "$root/ward/vm"
		cp "$KERNEL_DIR/vmlinuz" "$root/ward/vm/vmlinuz"
		# VM-isolated containers: this kernel and its modules with ward-init as initramfs
		if [ -x "$WARD_TREE/build/ward-init" ]; then
			mkdir -p "$work/kmods"
			(cd "$work/kmods" && cpio -id --quiet <"$KERNEL_DIR/modules.cpio") &&
				vm_kernel_main --kernel "$KERNEL_DIR/vmlinuz" --modules-from "$work/kmods" \
					"$root/ward/vm" "$WARD_TREE/build/ward-init" || return 1
		fi
	fi
}

# ---- main ---------------------------------------------------------------------------------------
check_host
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-vm.XXXXXX") || die "mktemp failed"
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

if [ ! -x "$WARD_TREE/build/ward" ]; then
	say "building ward in $WARD_TREE"
	make -C "$WARD_TREE" >"$work/make.log" 2>&1 || { cat "$work/make.log"; die "make failed"; }
fi

TOKEN=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
{
	flock 9
	prepare_kernel || die "could not prepare the kernel"
	prepare_base || die "could not build the initramfs base"
	cat "$BASE_CPIO" "$KERNEL_DIR/modules.cpio" >"$work/initrd.base" || die "initrd: cat failed"
	cp "$KERNEL_DIR/vmlinuz" "$work/vmlinuz"
} 9>"$VM_CACHE/.lock"
# guest_run PATTERN: boot the guest on the tests matching PATTERN; sets passed, failed (the tests
# reported, with the lane's own failure if it broke) and frozen=1 when the guest's console went
# silent for VM_STALL s (the guest's own watchdog prints every minute once a test outlives
# IT_TIMEOUT: silence means the whole guest is stuck, not a test).
guest_run() {
	PATTERN=$1
	rm -rf "$work/tree" "$work/tree.cpio" "$work/tmp.img"
	build_tree "$work/tree" || die "could not copy ward and its tests"
	# The guest's /tmp: ext4 on a sparse disk image, as on the host (tmpfs in 6.1 has no
	# idmapped mounts, and the tests' data should not live in the guest's RAM).
	truncate -s "${VM_DISK}M" "$work/tmp.img" && "$(host_bin mkfs.ext4)" -q -F -L ward-vm-tmp "$work/tmp.img" ||
		die "could not make the guest's /tmp disk"
	cpio_of "$work/tree" "$work/tree.cpio" && cat "$work/initrd.base" "$work/tree.cpio" >"$work/initrd" ||
		die "initrd: cpio failed"
	say "kernel $(cat "$KERNEL_DIR/ok"), initrd $(($(stat -c %s "$work/initrd") / 1048576)) MiB ready in $(secs_since "$lane_start") s; pattern '$PATTERN'"

	# ---- boot ------------------------------------------------------------------------------
	: >"$work/serial.log"
	boot_start=$(now_ms)
	qemu-system-x86_64 -M q35 -accel tcg,thread=multi -cpu EPYC -m "$VM_MEM" -smp "$VM_SMP" \
		-nodefaults -no-user-config -display none -serial "file:$work/serial.log" \
		-drive "file=$work/tmp.img,format=raw,if=virtio,cache=unsafe" \
		-kernel "$work/vmlinuz" -initrd "$work/initrd" -no-reboot \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off" \
		</dev/null >"$work/qemu.log" 2>&1 &
	qemu_pid=$!
	# The console, as it comes (qemu writes it with CR LF).
	tail -n +1 -s 0.2 -F --pid="$qemu_pid" "$work/serial.log" 2>/dev/null | sed -u 's/\r$//' &
	stream_pid=$!
	timed_out=0 frozen=0
	local size=-1 now_size quiet_since
	quiet_since=$(now_ms)
	while kill -0 "$qemu_pid" 2>/dev/null; do
		now_size=$(stat -c %s "$work/serial.log" 2>/dev/null || echo 0)
		if [ "$now_size" != "$size" ]; then
			size=$now_size
			quiet_since=$(now_ms)
		fi
		if [ $(($(now_ms) - boot_start)) -ge $((VM_TIMEOUT * 1000)) ] ||
			[ $(($(now_ms) - quiet_since)) -ge $((VM_STALL * 1000)) ]; then
			[ $(($(now_ms) - quiet_since)) -ge $((VM_STALL * 1000)) ] && frozen=1 || timed_out=1
			kill "$qemu_pid" 2>/dev/null
			sleep 2
			kill -9 "$qemu_pid" 2>/dev/null
			break
		fi
		sleep 0.5
	done
	wait "$qemu_pid"
	qemu_rc=$?
	qemu_pid=""
	wait "$stream_pid" 2>/dev/null
	stream_pid=""
	guest_s=$(secs_since "$boot_start")

	# ---- verdict: only the end marker with this run's token counts ----------------------------
	tr -d '\r' <"$work/serial.log" >"$work/console.log"
	marker=$(grep -a "^WARD-VM-EXIT $TOKEN " "$work/console.log" | tail -n 1)
	if [ -n "$marker" ]; then
		read -r _ _ status passed failed <<<"$marker"
		say "guest finished in $guest_s s (lane $(secs_since "$lane_start") s), guest exit $status"
		[ "$status" = 0 ] && [ "$failed" = 0 ] || { [ "$failed" != 0 ] || failed=1; }
	else
		if [ "$frozen" = 1 ]; then
			say "the guest's console was silent for ${VM_STALL}s (VM_STALL) after: $(grep -aE '^(ok|not ok|skip) - ' "$work/console.log" | tail -n 1)"
		elif [ "$timed_out" = 1 ]; then
			say "timed out after ${VM_TIMEOUT}s (VM_TIMEOUT): qemu killed"
		elif grep -aq 'Kernel panic' "$work/console.log"; then
			say "the guest kernel panicked"
		else
			say "qemu exited $qemu_rc without the guest's end marker"
		fi
		grep -v "TCG doesn't support requested feature" "$work/qemu.log" | sed 's/^/# qemu: /'
		# count what was reported before it broke, plus one failure for the lane
		passed=$(grep -acE '^ok - ' "$work/console.log")
		failed=$(grep -acE '^not ok - ' "$work/console.log")
		failed=$((failed + 1))
	fi
}

# The tests matching PATTERN that console.log did not report, as one pattern (empty if none).
unreported_pattern() {
	local names
	names=$(grep -ho '^test_[A-Za-z0-9_]*()' "$WARD_TREE"/tests/integration/t_*.sh | tr -d '()' |
		grep -E "$PATTERN" | sed 's/^test_//' |
		grep -vxFf <(grep -aoE '^(ok|not ok|skip) - [A-Za-z0-9_]+' "$work/console.log" |
			sed -E 's/^(ok|not ok|skip) - //') | paste -sd'|')
	[ -n "$names" ] && echo "^test_($names)\$"
}

guest_run "$PATTERN"
# A guest that froze (seen 1 lane in about 6: both vCPUs busy, no output, not even from the
# guest's watchdog; cause unknown, see tests/vm/README.md) is booted once more for the tests it
# had not reported; the freeze itself is said above and the lane's count is both runs'.
if [ "$frozen" = 1 ] && rest=$(unreported_pattern); then
	# (each guest reports kvm_amd_loaded: the first one's is not counted twice)
	first_passed=$((passed - $(grep -ac '^ok - kvm_amd_loaded' "$work/console.log")))
	first_failed=$((failed - 1))
	say "booting a new guest for the $(tr '|' '\n' <<<"$rest" | wc -l) tests not reported"
	TOKEN=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	guest_run "$rest"
	passed=$((first_passed + passed)) failed=$((first_failed + failed))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
