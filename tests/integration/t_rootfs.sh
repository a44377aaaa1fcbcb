# Root filesystem, mounts, devices, masked/readonly paths, sysctl.

# The mountinfo line (inside) for mount point $1 from $OUT of `cat /proc/self/mountinfo`.
mi_line() { echo "$OUT" | awk -v m="$1" '$5 == m' | tail -1; }

test_readonly_root_refuses_writes() {
	mkbundle
	sh_ok 'touch /newfile 2>&1 && echo WROTE; touch /tmp/x 2>&1 && echo WROTE-TMP; true'
	assert_not_contains "$OUT" "WROTE" "touch on a readonly root"
	assert_contains "$OUT" "Read-only file system"
	[ ! -e "$B/rootfs/newfile" ] || fail "file created in the readonly rootfs"
}

test_writable_root_accepts_writes() {
	mkbundle
	cfg_set '.root.readonly = false'
	sh_ok 'echo data >/newfile && cat /newfile'
	assert_eq data "$OUT"
	assert_eq data "$(cat "$B/rootfs/newfile")" "file seen from the host"
}

test_no_pivot_runs_in_rootfs() {
	mkbundle -- sh -c 'ls /; cat /etc/passwd | wc -l'
	run_ok --no-pivot "$(newid)"
	assert_contains "$OUT" "bin"
	assert_eq 3 "$(echo "$OUT" | tail -1)" "passwd lines (the container's)"
}

test_bind_mount_readonly_refuses_writes() {
	mkdir "$T/src"
	echo content >"$T/src/file"
	mkbundle
	cfg_set '.mounts += [{"destination": "/data", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]' --arg s "$T/src"
	sh_ok 'cat /data/file; echo x >/data/new 2>&1 || echo WRITE-FAILED'
	assert_contains "$OUT" content
	assert_contains "$OUT" WRITE-FAILED
	[ ! -e "$T/src/new" ] || fail "write went through a ro bind mount"
}

test_bind_mount_readwrite_writes_through() {
	mkdir "$T/src"
	mkbundle
	cfg_set '.mounts += [{"destination": "/data", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' --arg s "$T/src"
	sh_ok 'echo hi >/data/new'
	assert_eq hi "$(cat "$T/src/new")" "file written through the bind mount"
}

test_tmpfs_mount_size_and_flags_visible() {
	mkbundle
	cfg_set '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=2m", "mode=1770"]}]'
	sh_ok 'cat /proc/self/mountinfo; stat -c "mode=%a" /scratch'
	local l
	l=$(mi_line /scratch)
	[ -n "$l" ] || fail "no /scratch in mountinfo"
	assert_contains "$l" "nosuid" "/scratch mount flags"
	assert_contains "$l" "nodev" "/scratch mount flags"
	assert_contains "$l" "noexec" "/scratch mount flags"
	assert_contains "$l" "size=2048k" "/scratch tmpfs options"
	assert_contains "$OUT" "mode=1770" "/scratch mode"
}

test_default_mounts_present() {
	mkbundle
	sh_ok 'cat /proc/self/mountinfo'
	local m fs
	for m in /proc:proc /dev:tmpfs /dev/pts:devpts /dev/shm:tmpfs /dev/mqueue:mqueue /sys:sysfs; do
		fs=$(mi_line "${m%%:*}" | awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $(i + 1); exit}}')
		assert_eq "${m#*:}" "$fs" "filesystem at ${m%%:*}"
	done
	echo "$OUT" | awk '$5 ~ "^/sys/fs/cgroup"' | grep -Eq -- ' - cgroup2? ' || fail "no cgroup filesystem under /sys/fs/cgroup"
	assert_contains "$(mi_line /sys)" " ro," "/sys flags"
}

test_rootfs_propagation_shared() {
	ward_only "runc 1.1 applies rootfsPropagation before pivot_root: its new root shows no shared: tag"
	mkbundle
	cfg_set '.linux.rootfsPropagation = "shared"'
	sh_ok 'cat /proc/self/mountinfo'
	assert_contains "$(mi_line /)" "shared:" "root mount propagation"
}

test_rootfs_propagation_private_default() {
	mkbundle
	sh_ok 'cat /proc/self/mountinfo'
	assert_not_contains "$(mi_line /)" "shared:" "root mount propagation"
}

test_idmapped_bind_mount_maps_owner() {
	ward_only "runc 1.1 has no idmapped mounts"
	mkdir "$T/src"
	touch "$T/src/rootfile"
	chown 0:0 "$T/src/rootfile"
	mkbundle
	# the userns root (host uid 100000) cannot create the mount point in a root-owned rootfs
	mkdir -p "$T/bundle/rootfs/idm"
	cfg_set '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))
		| .mounts += [{"destination": "/idm", "type": "bind", "source": $s, "options": ["rbind", "idmap"],
			"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
			"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}]' --arg s "$T/src"
	sh_ok 'stat -c "%u:%g" /idm/rootfile; grep " /idm " /proc/self/mountinfo'
	assert_eq "0:0" "$(echo "$OUT" | sed -n 1p)" "owner of a host-root file through the idmapped mount"
	assert_contains "$OUT" "idmapped" "mountinfo marks the mount idmapped"
	# "idmap" without mappings takes the container's user namespace mappings
	cfg_set '.mounts |= map(if .destination == "/idm" then del(.uidMappings, .gidMappings) else . end)'
	sh_ok 'stat -c "%u:%g" /idm/rootfile'
	assert_eq "0:0" "$OUT" "owner through an idmapped mount using the container's mappings"
	# without idmap the same file shows as the overflow id
	cfg_set '.mounts |= map(if .destination == "/idm" then .options = ["rbind"] else . end)'
	sh_ok 'stat -c "%u:%g" /idm/rootfile'
	assert_eq "65534:65534" "$OUT" "owner without idmap"
	# the host file itself is untouched
	assert_eq "0:0" "$(stat -c %u:%g "$T/src/rootfile")" "host file owner unchanged"
}

test_config_devices_created_with_mode() {
	mkbundle
	cfg_set '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 0, "gid": 0}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
	sh_ok 'stat -c "%F %t:%T %a %u:%g" /dev/mydev; echo x >/dev/mydev && echo WRITE-OK'
	assert_eq "character special file 1:3 640 0:0" "$(echo "$OUT" | sed -n 1p)" "stat /dev/mydev"
	assert_contains "$OUT" WRITE-OK "write to the device (it is /dev/null)"
}

test_default_devices_and_symlinks() {
	mkbundle
	sh_ok 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done
		for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
		stat -c "%n %F" /dev/pts/ptmx
		head -c 4 /dev/zero | od -An -tx1'
	local want
	want="/dev/null character special file 1:3
/dev/zero character special file 1:5
/dev/full character special file 1:7
/dev/random character special file 1:8
/dev/urandom character special file 1:9
/dev/tty character special file 5:0
fd -> /proc/self/fd
stdin -> /proc/self/fd/0
stdout -> /proc/self/fd/1
stderr -> /proc/self/fd/2
ptmx -> pts/ptmx
/dev/pts/ptmx character special file"
	assert_eq "$want" "$(echo "$OUT" | sed -n 1,12p)" "devices"
	assert_contains "$OUT" "00 00 00 00" "read /dev/zero"
}

test_masked_paths_unreadable() {
	mkbundle
	cfg_set '.linux.maskedPaths += ["/etc"]'
	sh_ok 'echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c); echo etc=$(ls -A /etc | wc -l); echo keys=$(cat /proc/keys 2>/dev/null | wc -c)'
	assert_contains "$OUT" "kcore=0" "/proc/kcore"
	assert_contains "$OUT" "etc=0" "masked directory"
	assert_contains "$OUT" "keys=0" "/proc/keys"
}

test_readonly_paths_refuse_writes() {
	mkbundle
	sh_ok 'echo 1 >/proc/sys/kernel/domainname 2>&1 || echo WRITE-FAILED; grep " /proc/sys " /proc/self/mountinfo'
	assert_contains "$OUT" WRITE-FAILED "write to /proc/sys"
	assert_match "$(echo "$OUT" | tail -1)" ' /proc/sys ro,' "/proc/sys mount"
}

test_sysctl_applied_in_network_namespace() {
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	mkbundle
	cfg_set '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.lo.forwarding": "1"}'
	sh_ok 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/lo/forwarding'
	assert_eq "1
1" "$OUT" "sysctls inside"
	assert_eq "$before" "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward unchanged"
}

test_symlinked_mount_destination_stays_inside_rootfs() {
	mkdir "$T/outside"
	touch "$T/outside/.marker"
	local before
	before=$(ls -A "$T/outside")
	mkbundle
	ln -s "$T/outside" "$B/rootfs/evil"
	mkdir -p "$T/src"
	echo payload >"$T/src/payload"
	cfg_set '.root.readonly = false
		| .mounts += [{"destination": "/evil", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
			{"destination": "/evil/deeper", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]' --arg s "$T/src"
	run_ctr
	# Whether the runtime refuses or follows the link inside the rootfs, the host dir is untouched.
	assert_eq "$before" "$(ls -A "$T/outside")" "host dir behind the symlink"
	[ -z "$(it_mounts_under "$T/outside")" ] || fail "something is mounted on the host dir"
}

test_sysfs_and_proc_not_writable_for_host_state() {
	mkbundle
	sh_ok 'echo 1 >/proc/sysrq-trigger 2>/dev/null && echo SYSRQ; echo x >/sys/kernel/uevent_helper 2>/dev/null && echo SYS; true'
	assert_not_contains "$OUT" SYSRQ
	assert_not_contains "$OUT" SYS
}

test_unprivileged_user_leaves_host_dev_null_alone() {
	local before
	before=$(stat -c '%U:%G %a' /dev/null /dev/zero)
	mkbundle -- sh -c 'id -u; ls -l /proc/self/fd/ >/dev/null'
	cfg_set '.process.user = {"uid": 1000, "gid": 1000}
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	local id
	id=$(newid)
	w run --bundle "$B" "$id" </dev/null >/dev/null 2>/dev/null || true
	assert_eq "$before" "$(stat -c '%U:%G %a' /dev/null /dev/zero)" "host /dev/null, /dev/zero"
}
