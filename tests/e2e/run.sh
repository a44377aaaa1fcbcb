#!/bin/bash
# tests/e2e/run.sh [PATTERN]: podman (through conmon) and containerd (through its runc v2
# shim) driving build/ward, one test per behaviour. Runs in the integration harness
# (tests/integration/run.sh: same output, same summary line, same host checks) over the
# files tests/e2e/podman.sh and tests/e2e/containerd.sh. Needs root and Debian's podman,
# conmon and containerd (scripts/deps.sh installs them).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export IT_FILES="$E2E_DIR/podman.sh $E2E_DIR/containerd.sh"
export IT_TIMEOUT=${IT_TIMEOUT:-120}
exec "$E2E_DIR/../integration/run.sh" "$@"
