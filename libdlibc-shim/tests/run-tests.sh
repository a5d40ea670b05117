#!/usr/bin/env bash
# run-tests.sh - build and run the libdlibc C tests against a real diosd.
#
#   DIOSD=<launcher> run-tests.sh [t_name ...]
#
# DIOSD defaults to <repo>/dist/bin/diosd.  Each test starts its own daemon on
# a temp socket.  The scripts t_*.sh beside the tests run with them (no
# daemon: t_layers.sh checks the shim's layering on its objects).  Exit status of a test: 0 pass, 77 skip, anything else fail;
# each runs under `timeout 120` (t_crash_daemon, a hundred daemon starts: 1500;
# DIOS_LONG=1, the long reliability runs: 7200; TEST_TIMEOUT=SECONDS overrides).
# Ends with "N passed, N failed, N skipped".
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHIM=$(cd "$HERE/.." && pwd)
REPO=$(cd "$SHIM/.." && pwd)
BIN=${TEST_BIN_DIR:-$SHIM/build/tests}
export DIOSD=${DIOSD:-$REPO/dist/bin/diosd}

if [ ! -x "$DIOSD" ]; then
	echo "run-tests.sh: daemon launcher $DIOSD is missing or not executable (set DIOSD or run 'make dist')" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

if [ -z "${TEST_NO_BUILD:-}" ]; then
	if ! make -s -C "$HERE" >/dev/null; then
		echo "run-tests.sh: building the tests failed (make -C $HERE)" >&2
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
fi

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		n=$(basename "$t" .c)
		n=${n%.sh}
		if [ -f "$HERE/$n.sh" ]; then tests+=("$HERE/$n.sh"); else tests+=("$BIN/$n"); fi
	done
else
	shopt -s nullglob
	tests=("$HERE"/t_*.sh "$BIN"/t_*)
	shopt -u nullglob
fi
if [ ${#tests[@]} -eq 0 ]; then
	echo "run-tests.sh: no tests found in $BIN" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

passed=0 failed=0 skipped=0
failed_names=()
out=$(mktemp /tmp/dios-run-tests.XXXXXX)
trap 'rm -f "$out"' EXIT

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ ! -x "$t" ]; then
		echo "FAIL $name (not built)"
		failed=$((failed + 1)); failed_names+=("$name")
		continue
	fi
	limit=120
	[ "$name" = t_crash_daemon ] && limit=1500
	[ -n "${DIOS_LONG:-}" ] && [ "${DIOS_LONG}" != 0 ] && limit=7200
	[ -n "${TEST_TIMEOUT:-}" ] && limit=$TEST_TIMEOUT
	start=$(date +%s.%N)
	timeout -k 5 $limit "$t" >"$out" 2>&1
	rc=$?
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$out"
		;;
	77)
		echo "SKIP $name (${secs}s)"
		skipped=$((skipped + 1))
		sed 's/^/    /' "$out"
		;;
	*)
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL $name (${secs}s, timed out after $limit s)"
		else
			echo "FAIL $name (${secs}s, exit $rc)"
		fi
		sed 's/^/    /' "$out"
		failed=$((failed + 1)); failed_names+=("$name")
		;;
	esac
done

[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
