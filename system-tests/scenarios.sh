#!/bin/bash
# scenarios.sh - the one scenario suite (docs/SCENARIOS.md) through the C, Rust
# and Java clients against one real daemon, with a report per language.
#
#   system-tests/scenarios.sh            (DIST defaults to <repo>/dist)
#   SCENARIO_LANGS="c java" system-tests/scenarios.sh   (a subset, while debugging)
#
# Fails unless every scenario of every language printed "ok".  A runner that is
# missing from dist/ is a failure, not a skip (the Rust one is not asked for
# when there is no cargo, as the build then makes no Rust client).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=${DIST:-$ROOT/dist}
# Rust is optional in the build (no cargo: no Rust client, as make says); otherwise all three.
LANGS=${SCENARIO_LANGS:-c $(command -v cargo >/dev/null && echo rust) java}
IDS="share fifo100 spawn errors"
WORK=$(mktemp -d /tmp/dios-scenarios.XXXXXX)
DAEMON=""
cleanup() {
	if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then
		kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

"$DIST/bin/diosd" --socket "$WORK/d.sock" --state-dir "$WORK/state" > "$WORK/diosd.log" 2>&1 &
DAEMON=$!
"$ROOT/perf/build/wait_socket" "$WORK/d.sock" 30 || { echo "scenarios: diosd did not start:"; cat "$WORK/diosd.log"; exit 1; }
for _ in $(seq 900); do grep -q "diosd: serving tasks" "$WORK/diosd.log" && break; sleep 0.1; done  # after its JIT warm-up
export DIOS_SOCKET=$WORK/d.sock

# The C runner, built as a user builds (pkg-config against dist/) and branded for dios_run.
PKG_CONFIG_PATH=$DIST/lib/pkgconfig cc -O2 -o "$WORK/scenarios_c" "$ROOT/libdlibc-shim/examples/scenarios.c" \
	$(PKG_CONFIG_PATH=$DIST/lib/pkgconfig pkg-config --cflags --libs dlibc) -pthread || exit 1
"$DIST/bin/dios" brand --limbo "$WORK/scenarios_c" > /dev/null || exit 1
export DIOS_SCENARIO_CHILD=$WORK/scenarios_c

runner() {
	case $1 in
	c) echo "$WORK/scenarios_c" ;;
	rust) [ -x "$DIST/share/dios/examples/rust_scenarios" ] && echo "$DIST/share/dios/examples/rust_scenarios" ;;
	java)
		local java
		java=$(. "$DIST/share/dios/dios-java.sh"; dios_find_java) || return
		[ -f "$DIST/share/dios/java/dios-client.jar" ] &&
			echo "$java --enable-native-access=ALL-UNNAMED -cp $DIST/share/dios/java/dios-client.jar org.dios.client.scenarios.Scenarios" ;;
	esac
}

status=0
report=()
for lang in $LANGS; do
	cmd=$(runner "$lang")
	if [ -z "$cmd" ]; then
		echo "scenario $lang - FAIL no $lang runner in $DIST"
		report+=("$(printf '%-5s  0 ok  %d failed  (no runner)' "$lang" 4)"); status=1
		continue
	fi
	start=$(date +%s.%N)
	timeout -k 5 300 $cmd > "$WORK/$lang.out" 2> "$WORK/$lang.err"
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	cat "$WORK/$lang.out"
	ok=0 bad=0
	for id in $IDS; do
		if [ "$(grep -c "^scenario $lang $id ok" "$WORK/$lang.out")" = 1 ]; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
			grep -q "^scenario $lang $id " "$WORK/$lang.out" || echo "scenario $lang $id FAIL (no line printed)"
		fi
	done
	[ $rc = 0 ] || { [ $bad -gt 0 ] || bad=1; echo "scenarios: the $lang runner exited $rc:"; sed 's/^/    /' "$WORK/$lang.err"; }
	[ $bad = 0 ] || status=1
	report+=("$(printf '%-5s %2d ok %2d failed  (%ss)' "$lang" $ok $bad "$secs")")
done

# Nothing the runners made may outlive them: the console is the only object left
# (task teardown is asynchronous to the runners' exit, so give it a moment).
stats=""
for _ in $(seq 50); do
	stats=$("$DIST/bin/dios" status 2>/dev/null | awk '$1 == "tasks" || $1 == "objects" || $1 == "references" { printf "%s %s, ", $1, $2 }')
	[ "$stats" = "tasks 0, objects 1, references 0, " ] && break
	sleep 0.1
done
echo "== scenario report (daemon afterwards: ${stats%, })"
printf '   %s\n' "${report[@]}"
if [ "$stats" != "tasks 0, objects 1, references 0, " ]; then
	echo "scenarios: the runners left objects or references behind in the daemon"; status=1
fi
if [ $status != 0 ]; then echo "== scenarios FAILED; daemon log:"; tail -n 40 "$WORK/diosd.log" | sed 's/^/   /'; fi
exit $status
