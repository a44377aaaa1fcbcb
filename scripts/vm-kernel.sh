#!/bin/bash
# scripts/vm-kernel.sh: the guest kernel and initramfs of ward's micro-VM containers.
#
#   scripts/vm-kernel.sh OUTDIR WARD_INIT
#       Downloads Debian's cloud kernel (linux-image-cloud-amd64's current linux-image-*
#       package, with `apt-get download`: never installed) and unpacks it with dpkg -x.
#   scripts/vm-kernel.sh --kernel VMLINUZ --modules-from DIR OUTDIR WARD_INIT
#       Uses a kernel and a directory holding its modules (*.ko, *.ko.xz, ...; any depth)
#       instead: no download (the VM lane does this with the kernel it booted).
#
# Writes OUTDIR/vmlinuz, OUTDIR/vmlinux (the same kernel uncompressed, an ELF file, when the
# bzImage's payload is in a format a host tool here decompresses: ward boots it directly and
# the guest skips its decompressor), OUTDIR/initrd.img (newc cpio: WARD_INIT as /init, the modules the
# guest needs as /lib/modules/ward/NAME.ko in dependency order, listed in
# /lib/modules/ward/order, which ward-init reads) and OUTDIR/release. `make vm-kernel` runs
# this into $(PREFIX)/lib/ward/vm, where ward looks unless WARD_VM_KERNEL_DIR says otherwise.
#
# Sourced (by tests/vm/run.sh), it only defines the functions kernel_pkg, fetch_kernel,
# module_file, add_module.

# Modules ward-init loads: virtio-mmio transport, the root disk, the overlay over it, the
# control channel's console (/dev/hvc0, `ward exec`).
GUEST_MODULES="virtio_mmio virtio_blk overlay virtio_console"

command -v say >/dev/null 2>&1 || say() { echo "vm-kernel: $*" >&2; }

kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# fetch_kernel DIR WORK: download the kernel package named by `kernel_pkg` (without installing
# it) into WORK and unpack it into DIR. `apt-get update` only when that fails.
fetch_kernel() {
	local dir=$1 work=$2 dl=$2/dl pkg
	mkdir -p "$dl"
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ] || ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >"$work/apt.log" 2>&1); then
		say "kernel download failed, running apt-get update"
		apt-get update -q >>"$work/apt.log" 2>&1
		pkg=$(kernel_pkg)
		[ -n "$pkg" ] && (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >>"$work/apt.log" 2>&1) ||
			{ cat "$work/apt.log"; return 1; }
	fi
	dpkg -x "$dl"/linux-image-*.deb "$dir" && rm -rf "$dl"
}

# module_file KDIR NAME: the .ko file of module NAME ("-" and "_" are the same), from the list
# of module files in KDIR/.index.
module_file() {
	local want=${2//-/_} f n
	while read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		[ "${n//-/_}" = "$want" ] && { echo "$f"; return 0; }
	done <"$1/.index"
	return 1
}

# add_module KDIR OUT NAME: NAME after its dependencies (read from the module's depends=),
# decompressed into OUT, its name appended to OUT/order once.
add_module() {
	local kdir=$1 out=$2 name=${3//-/_} f deps d
	grep -qx "$name" "$out/order" 2>/dev/null && return 0
	f=$(module_file "$kdir" "$name") || { say "kernel module not found: $name"; return 1; }
	case $f in
	*.ko.xz) xz -dc "$f" >"$out/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$out/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$out/$name.ko" ;;
	*) cp "$f" "$out/$name.ko" ;;
	esac || { say "cannot decompress $f"; return 1; }
	deps=$(tr '\0' '\n' <"$out/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
	for d in ${deps//,/ }; do
		add_module "$kdir" "$out" "$d" || return 1
	done
	echo "$name" >>"$out/order"
}

# kernel_release BZIMAGE: the first word of the setup header's kernel_version string (its
# offset - 0x200 is at 0x20e)
kernel_release() {
	local off
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 0x200)) count=80 2>/dev/null | tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}

# extract_vmlinux BZIMAGE OUT: the bzImage's compressed payload (setup header fields
# payload_offset 0x248 and payload_length 0x24c, from the end of the setup sectors: 0x1f1 + 1
# of 512 bytes) decompressed into OUT, an ELF vmlinux; fails when the format's tool is missing
# or the result is no ELF file.
extract_vmlinux() {
	local bz=$1 out=$2 sects off len magic tool
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	[ "$sects" != 0 ] || sects=4
	off=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
	len=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
	[ -n "$off" ] && [ -n "$len" ] && [ "$len" -gt 0 ] || return 1
	off=$(((sects + 1) * 512 + off))
	magic=$(od -An -tx1 -j "$off" -N4 "$bz" | tr -d ' ')
	case $magic in
	1f8b*) tool="gzip -dc" ;;
	fd377a58) tool="xz -dc" ;;
	28b52ffd) tool="zstd -qdc" ;;
	02214c18) tool="lz4 -dc" ;;
	425a68*) tool="bzip2 -dc" ;;
	5d00*) tool="xz -dc --format=lzma" ;;
	*) say "vmlinux: unknown payload format (magic $magic)"; return 1 ;;
	esac
	command -v "${tool%% *}" >/dev/null || { say "vmlinux: ${tool%% *} not found"; return 1; }
	# trailing bytes after the compressed stream (the size the decompressor appends) may make
	# the tool complain: the ELF check decides
	tail -c +$((off + 1)) "$bz" | head -c "$len" | $tool >"$out" 2>/dev/null
	[ "$(od -An -tx1 -N4 "$out" | tr -d ' ')" = 7f454c46 ] || { rm -f "$out"; return 1; }
}

# vm_kernel_main [--kernel F --modules-from D] OUTDIR WARD_INIT
vm_kernel_main() {
	local work rc
	work=$(mktemp -d "${TMPDIR:-/tmp}/ward-vm-kernel.XXXXXX") || return 1
	vm_kernel_build "$work" "$@"
	rc=$?
	rm -rf "$work"
	return $rc
}

vm_kernel_build() {
	local work=$1
	shift
	local kernel="" mods="" out init k m name
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) kernel=$2; shift 2 ;;
		--modules-from) mods=$2; shift 2 ;;
		-*) say "unknown option $1"; return 2 ;;
		*) break ;;
		esac
	done
	[ $# = 2 ] || { say "usage: $0 [--kernel VMLINUZ --modules-from DIR] OUTDIR WARD_INIT"; return 2; }
	out=$1 init=$2
	[ -z "$kernel" ] || [ -n "$mods" ] || { say "--kernel needs --modules-from"; return 2; }
	[ -x "$init" ] || { say "ward-init not found at $init (make build/ward-init)"; return 1; }
	command -v cpio >/dev/null || { say "cpio not found (apt-get install cpio)"; return 1; }
	k=$work/kernel
	mkdir -p "$k"
	if [ -z "$kernel" ]; then
		say "fetching Debian's cloud kernel $(kernel_pkg)"
		fetch_kernel "$k" "$work" || { say "could not download the kernel package"; return 1; }
		kernel=$(ls "$k"/boot/vmlinuz-* | head -n 1)
		mods=$k/lib/modules
	fi
	[ -f "$kernel" ] || { say "no kernel at $kernel"; return 1; }
	find -L "$mods" -name '*.ko*' >"$k/.index"
	m=$work/initrd
	mkdir -p "$m/lib/modules/ward"
	for name in $GUEST_MODULES; do
		add_module "$k" "$m/lib/modules/ward" "$name" || return 1
	done
	cp "$init" "$m/init"
	chmod 0755 "$m/init"
	mkdir -p "$out.new"
	cp "$kernel" "$out.new/vmlinuz"
	extract_vmlinux "$kernel" "$out.new/vmlinux" ||
		say "no uncompressed vmlinux (the guest decompresses vmlinuz at every boot)"
	(cd "$m" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.new/initrd.img" || return 1
	kernel_release "$kernel" >"$out.new/release"
	rm -rf "$out"
	mv "$out.new" "$out"
	say "guest kernel $(cat "$out/release") and initramfs ($(tr '\n' ' ' <"$m/lib/modules/ward/order")) in $out"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	vm_kernel_main "$@"
	exit
fi
