#!/bin/sh
# tests/checkpoint/run.sh: the checkpoint engine's tests (needs root: ptrace, clone3 set_tid,
# pid namespaces). Prints "checkpoint: N passed, M failed".
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
if [ "$(id -u)" != 0 ]; then
	echo "checkpoint: needs root"
	echo "checkpoint: 0 passed, 1 failed"
	exit 1
fi
exec "$BUILD/tests/checkpoint/ckpt_test" "$BUILD/tests/checkpoint/progs" "$@"
