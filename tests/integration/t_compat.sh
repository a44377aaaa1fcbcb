# What callers (conmon, containerd's shim, podman, scripts) parse, compared with runc 1.1
# side by side: the same calls on two containers of the same bundle, one under the runtime
# under test and one under runc, and the shapes must agree (keys, their order, types, texts).
# Against runc itself (WARD=runc) these compare runc with runc.

RUNC=$(command -v runc || true)

# pair [ARGS...]: bundles $T/bw and $T/br (busybox `sleep 1000`, or ARGS), containers "cw"
# under $WARD (--root $T/rootw) and "cr" under runc (--root $T/rootr), created, not started.
pair() {
	[ -n "$RUNC" ] || fail "runc not installed (scripts/deps.sh)"
	[ $# -gt 0 ] || set -- sleep 1000
	mkbundle "$T/br" -- "$@"
	cfg_set ".linux.cgroupsPath = \"/wardit/$(newid)\""
	mkbundle "$T/bw" -- "$@"
	# not ward's default /ward/cw: runs on the same host would share it, and host_untouched
	# finds a cgroup left behind only by the test-id pattern
	cfg_set ".linux.cgroupsPath = \"/wardit/$(newid)\""
	# before the creates: the harness's cleanup knows only --root $ROOT, so a failing second
	# create would leave the first container (and its cgroup) behind
	defer "$RUNC --root $T/rootr delete -f cr"
	defer "$WARD --root $T/rootw delete -f cw"
	wx create --bundle "$T/bw" cw </dev/null
	rx create --bundle "$T/br" cr </dev/null
}
wx() { "$WARD" --root "$T/rootw" "$@"; }
rx() { "$RUNC" --root "$T/rootr" "$@"; }

# keys_of JSON: every path of a JSON document, in document order, array indexes as [].
keys_of() { jq -c '[paths | map(if type == "number" then "[]" else . end) | join(".")] | unique'; }

test_compat_version_lines() {
	local ours theirs
	ours=$("$WARD" --version)
	theirs=$("$RUNC" --version)
	assert_match "$(echo "$ours" | sed -n 1p)" '^[a-z]+ version [0-9]+\.[0-9]+\.[0-9]+' "line 1"
	assert_match "$(echo "$ours" | sed -n 2p)" '^commit: .+' "line 2"
	assert_match "$(echo "$ours" | sed -n 3p)" '^spec: [0-9]+\.[0-9]+\.[0-9]+' "line 3"
	assert_eq "$(echo "$theirs" | grep '^libseccomp:')" "$(echo "$ours" | grep '^libseccomp:')" "libseccomp line"
}

test_compat_state_json() {
	pair
	local st
	for st in created running stopped; do
		case $st in
		running) wx start cw; rx start cr ;;
		stopped) wx kill cw KILL; rx kill cr KILL; wait_for 5 sh -c "$WARD --root $T/rootw state cw | grep -q stopped"
			wait_for 5 sh -c "$RUNC --root $T/rootr state cr | grep -q stopped" ;;
		esac
		assert_eq "$(rx state cr | jq -c '[keys_unsorted, (map_values(type) | [.[]])]')" \
			"$(wx state cw | jq -c '[keys_unsorted, (map_values(type) | [.[]])]')" "state keys and types ($st)"
		assert_eq "$st" "$(wx state cw | jq -r .status)"
		assert_match "$(wx state cw | jq -r .created)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z$' "created"
	done
}

test_compat_list_json() {
	assert_eq "$("$RUNC" --root "$T/empty-r" list --format json)" \
		"$("$WARD" --root "$T/empty-w" list --format json)" "list of an empty root"
	pair
	assert_eq "$(rx list --format json | jq -c '[.[0] | keys_unsorted, (map_values(type) | [.[]])]')" \
		"$(wx list --format json | jq -c '[.[0] | keys_unsorted, (map_values(type) | [.[]])]')" "list entry"
	assert_eq "$(rx list -q | sed 's/cr/cw/')" "$(wx list -q)" "list -q"
}

test_compat_ps_json() {
	pair sh -c 'sleep 1000 & exec sleep 999'
	wx start cw
	rx start cr
	wait_for 5 sh -c "[ \$($WARD --root $T/rootw ps --format json cw | jq length) = 2 ]"
	wait_for 5 sh -c "[ \$($RUNC --root $T/rootr ps --format json cr | jq length) = 2 ]"
	assert_eq "$(rx ps --format json cr | jq -c 'map(type)')" "$(wx ps --format json cw | jq -c 'map(type)')" "ps json"
	assert_contains "$(wx ps --format json cw)" "$(wx state cw | jq .pid)" "ps json has the init"
}

test_compat_events_stats() {
	pair
	wx start cw
	rx start cr
	local ours theirs missing
	ours=$(wx events --stats cw)
	theirs=$(rx events --stats cr)
	assert_eq "$(echo "$theirs" | jq -c keys_unsorted)" "$(echo "$ours" | jq -c keys_unsorted)" "event keys"
	assert_eq stats "$(echo "$ours" | jq -r .type)"
	# runc's data keys come first, in runc's order; ward may add its own after them.
	local n
	n=$(echo "$theirs" | jq '.data | keys_unsorted | length')
	assert_eq "$(echo "$theirs" | jq -c '.data | keys_unsorted')" \
		"$(echo "$ours" | jq -c --argjson n "$n" '.data | keys_unsorted | .[:$n]')" "data keys"
	# Every path runc prints, ward prints.
	missing=$(jq -n -c --argjson a "$(echo "$theirs" | keys_of)" --argjson b "$(echo "$ours" | keys_of)" \
		'$a - $b')
	assert_eq "[]" "$missing" "paths runc prints that the runtime does not"
	assert_eq "$(echo "$ours" | jq -c '.data.memory.raw | keys')" \
		"$(echo "$ours" | jq -c '.data.memory.raw | keys_unsorted')" "memory.raw keys sorted, as runc's (a Go map)"
}

test_compat_log_lines() {
	local f=$T/log.json line
	"$WARD" --root "$ROOT" --log "$f" --log-format json state nosuch 2>"$T/err" && fail "state of an unknown id succeeded"
	line=$(head -1 "$f")
	assert_eq '["level","msg","time"]' "$(echo "$line" | jq -c keys_unsorted)" "json log keys"
	assert_eq error "$(echo "$line" | jq -r .level)"
	assert_contains "$(echo "$line" | jq -r .msg)" "does not exist"
	assert_match "$(echo "$line" | jq -r .time)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "time"
	# With a log file, stderr carries the bare message, as runc's.
	assert_eq "$(echo "$line" | jq -r .msg)" "$(cat "$T/err")" "stderr with --log"
	"$WARD" --root "$ROOT" --log "$T/log.txt" --log-format text state nosuch 2>/dev/null && fail "state succeeded"
	assert_match "$(head -1 "$T/log.txt")" '^time="[0-9T:Z-]+" level=error msg=".*does not exist"$' "text log line"
}

# With --log, a warning goes to the log file only (runc's logrus writes there, not to stderr):
# under conmon the runtime's stderr can be the container's, and go-runc parses `state` from
# stdout and stderr together.
test_compat_warning_with_log_stays_in_the_log() {
	pair
	wx --log "$T/lw" update --kernel-memory 100M cw 2>"$T/ew"
	rx --log "$T/lr" update --kernel-memory 100M cr 2>"$T/er"
	assert_eq "" "$(cat "$T/er")" "runc's stderr"
	assert_eq "" "$(cat "$T/ew")" "stderr with --log"
	grep -qi '^time="[^"]*" level=warning msg=".*kernel.memory' "$T/lw" || fail "no warning in the log: $(cat "$T/lw")"
}

test_compat_pid_file() {
	pair
	local ours theirs
	rm -f "$T/pw" "$T/pr"
	wx delete -f cw
	rx delete -f cr
	wx create --bundle "$T/bw" --pid-file "$T/pw" cw </dev/null
	rx create --bundle "$T/br" --pid-file "$T/pr" cr </dev/null
	ours=$(od -An -c "$T/pw" | tr -d ' 0-9\n')
	theirs=$(od -An -c "$T/pr" | tr -d ' 0-9\n')
	assert_eq "$theirs" "$ours" "characters of the pid file besides digits"
	assert_eq "$(wx state cw | jq .pid)" "$(cat "$T/pw")" "pid file content"
}

# compat_err CMD ARGS: both runtimes fail with exit 1 and stderr texts that share NEEDLE.
compat_err() {
	local needle=$1; shift
	local ours theirs rc_o rc_t
	set +e
	ours=$(wx "$@" 2>&1); rc_o=$?
	theirs=$(rx "${@/cw/cr}" 2>&1); rc_t=$?
	set -e
	printf '[%s] ward: %s (%s) runc: %s (%s)\n' "$*" "$ours" "$rc_o" "$theirs" "$rc_t" >&2
	assert_eq "$rc_t" "$rc_o" "exit status of [$*]"
	assert_contains "$theirs" "$needle" "runc's text for [$*]"
	assert_contains "$ours" "$needle" "text for [$*]"
}

test_compat_error_texts_and_codes() {
	pair
	local c
	for c in state start kill delete pause resume ps events; do
		compat_err "does not exist" "$c" nosuch
	done
	wx start cw
	rx start cr
	compat_err "cannot delete container" delete cw
	wx kill cw KILL
	rx kill cr KILL
	wait_for 5 sh -c "$WARD --root $T/rootw state cw | grep -q stopped"
	wait_for 5 sh -c "$RUNC --root $T/rootr state cr | grep -q stopped"
	compat_err "container not running" kill cw TERM
	compat_err "cannot start a container that has stopped" start cw
	compat_err "cannot exec in a stopped container" exec cw true
	compat_err 'unknown signal' kill cw BOGUS
}
