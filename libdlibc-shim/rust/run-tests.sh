#!/usr/bin/env bash
# run-tests.sh - the Rust crates' tests (cargo test) against a real diosd.
#
#   DIOSD=<launcher> run-tests.sh [cargo test arguments ...]
#
# DIOSD defaults to <repo>/dist/bin/diosd.  Starts it on a temp socket (its
# own process group, log in the temp dir), runs `cargo test --offline` in this
# workspace with DIOS_SOCKET pointing at it and DIOS_TEST_DAEMON_LOG naming its
# log (the dios crate's tests read the console lines of tasks there), then
# stops it.  The tests run without a terminal (stdin /dev/null, output through
# a pipe), so that a test's own console output goes to that log, and a task it
# spawns writes its console output (its panics) to the stderr it inherited:
# cargo's output is teed into a file, DIOS_TEST_OUTPUT_LOG, where the tests
# look for it.  On failure the tail of the daemon's log is printed.  Exit
# status: cargo's.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIOSD=${DIOSD:-$REPO/dist/bin/diosd}
WAIT=$REPO/perf/build/wait_socket

if [ ! -x "$DIOSD" ]; then
	echo "run-tests.sh: daemon launcher $DIOSD is missing or not executable (set DIOSD or run 'make dist')" >&2
	exit 1
fi
if [ ! -x "$WAIT" ] && ! make -s -C "$REPO/perf" "$WAIT" >/dev/null; then
	echo "run-tests.sh: cannot build $WAIT (make -C perf)" >&2
	exit 1
fi

TMP=$(mktemp -d /tmp/dios-rust-tests.XXXXXX)
DPID=
cleanup() {
	local rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$DPID" 2>/dev/null || kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -f "$TMP/diosd.log" ]; then
		echo "----- tail of the daemon log ($DIOSD) -----" >&2
		tail -n 60 "$TMP/diosd.log" >&2 || true
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT

setsid "$DIOSD" --socket "$TMP/d.sock" --state-dir "$TMP/state" </dev/null >"$TMP/diosd.log" 2>&1 &
DPID=$!
if ! "$WAIT" "$TMP/d.sock" 30; then
	echo "run-tests.sh: diosd did not come up on $TMP/d.sock" >&2
	exit 1
fi
for _ in $(seq 900); do grep -q "diosd: serving tasks" "$TMP/diosd.log" && break; sleep 0.1; done  # after its JIT warm-up
export DIOS_SOCKET=$TMP/d.sock DIOS_TEST_DAEMON_LOG=$TMP/diosd.log DIOS_TEST_OUTPUT_LOG=$TMP/output.log

cd "$HERE" || exit 1
# (never hang a build: the bound covers a cold compile on a loaded machine)
timeout -k 10 1500 cargo test --offline "$@" </dev/null 2>&1 | tee "$TMP/output.log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 124 ] && echo "run-tests.sh: cargo test timed out" >&2
exit "$rc"
