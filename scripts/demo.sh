#!/bin/sh
# scripts/demo.sh: run one busybox container with build/ward: it prints its hostname, its pid
# (1, in its own pid namespace) and its namespaces. Cleans up after itself.
set -eu
cd "$(dirname "$0")/.."
WARD=${WARD:-$PWD/build/ward}
case $WARD in */*) ;; *) WARD=$(command -v "$WARD" || echo "$WARD") ;; esac
[ "$(id -u)" = 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x "$WARD" ] || { echo "demo: $WARD not built (make)" >&2; exit 1; }
dir=$(mktemp -d /tmp/ward-demo.XXXXXX)
chmod 0755 "$dir"
id=demo-$$
cleanup() {
	"$WARD" --root "$dir/state" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
scripts/mkbundle.sh "$dir/bundle" sh -c 'echo "hostname: $(hostname)"; echo pid=$$; ls -l /proc/self/ns'
jq '.hostname = "ward-demo"' "$dir/bundle/config.json" >"$dir/config.json"
mv "$dir/config.json" "$dir/bundle/config.json"
echo "\$ ward run --bundle $dir/bundle $id"
"$WARD" --root "$dir/state" run --bundle "$dir/bundle" "$id" </dev/null
