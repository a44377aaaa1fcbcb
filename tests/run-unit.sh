#!/bin/sh
# tests/run-unit.sh BIN...: run each cmocka unit-test binary, add up cmocka's summary lines
# ("[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)") and print
#   unit: N passed, M failed
# Exit 1 when a test failed, a binary crashed (killed by a signal, or exited without a summary)
# or exited non-zero with no failure counted.
passed=0 failed=0 bad=0
[ $# -gt 0 ] || { echo "unit: no test binaries" >&2; echo "unit: 0 passed, 0 failed"; exit 0; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bin in "$@"; do
	name=$(basename "$bin")
	"$bin" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0} f=${f:-0}
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ge 128 ] || ! grep -q '^\[  PASSED  \]\|^\[  FAILED  \]' "$out"; then
		echo "unit: $name crashed or printed no summary (exit $rc):" >&2
		tail -n 40 "$out" | sed 's/^/#   /' >&2
		failed=$((failed + 1))
		bad=1
	elif [ "$f" -gt 0 ] || [ "$rc" != 0 ]; then
		echo "unit: $name: $f failed (exit $rc):" >&2
		grep -E '^\[  (FAILED|ERROR) +\]|[Ee]rror|[Ff]ailure' "$out" | sed 's/^/#   /' >&2
		[ "$f" -gt 0 ] || { failed=$((failed + 1)); }
		bad=1
	else
		echo "unit: $name: $p passed"
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$bad" = 0 ] && [ "$failed" = 0 ]
