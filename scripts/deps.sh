#!/bin/sh
# Install every Debian 12 package the build, the demo and the tests need (idempotent).
set -e
PKGS="build-essential pkg-config libyajl-dev libseccomp-dev libcap-dev libmnl-dev \
libarchive-dev libcmocka-dev libxxhash-dev xxhash libssl-dev busybox-static runc crun jq iproute2 util-linux procps \
python3 hyperfine qemu-system-x86 cpio e2fsprogs podman conmon containerd"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
