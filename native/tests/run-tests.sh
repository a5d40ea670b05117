#!/usr/bin/env bash
# run-tests.sh - the tests of `dios brand` and dios-launch (no daemon needed).
#
#   [DIOS_TOOL=...] [DIOS_LAUNCH=...] run-tests.sh
#
# DIOS_TOOL and DIOS_LAUNCH default to native/build/dios and
# native/build/dios-launch; `make check-native` at the root points them at
# dist/bin/dios and dist/libexec/dios/dios-launch.  The test programs come
# from `make -C native tests` (built here unless TEST_NO_BUILD is set); the
# Rust probe is built with rustc when rustc is on PATH, else its part of
# t_launch is skipped.  Each test runs under `timeout 120`; exit status 0
# pass, 77 skip, anything else fail.  Prints "PASS t (Ns)" per test, its
# output on failure (or always with VERBOSE=1), and "N passed, N failed, N skipped".
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NATIVE=$(cd "$HERE/.." && pwd)
BIN=$NATIVE/build/tests
DIOS_TOOL=${DIOS_TOOL:-$NATIVE/build/dios}
DIOS_LAUNCH=${DIOS_LAUNCH:-$NATIVE/build/dios-launch}

if [ -z "${TEST_NO_BUILD:-}" ]; then
	if ! make -s -C "$NATIVE" tests build/dios build/dios-launch >/dev/null; then
		echo "run-tests.sh: building the tests failed (make -C $NATIVE tests)" >&2
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
fi
for f in "$DIOS_TOOL" "$DIOS_LAUNCH" "$BIN/t_launch" "$BIN/launch_probe" "$BIN/brand_hello"; do
	if [ ! -x "$f" ]; then
		echo "run-tests.sh: $f is missing or not executable" >&2
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
done

rust_probe=()
if command -v rustc >/dev/null; then
	if rustc --edition 2021 -O -o "$BIN/probe_rust" "$HERE/probe_rust.rs" 2>"$BIN/probe_rust.log"; then
		rust_probe=("$BIN/probe_rust")
	else
		echo "run-tests.sh: rustc failed on probe_rust.rs:" >&2
		cat "$BIN/probe_rust.log" >&2
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
fi

passed=0 failed=0 skipped=0
failed_names=()
out=$(mktemp /tmp/dios-native-tests.XXXXXX)
trap 'rm -f "$out"' EXIT

one() {
	local name=$1
	shift
	local start end secs rc
	start=$(date +%s.%N)
	timeout -k 5 120 "$@" >"$out" 2>&1
	rc=$?
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0)
		echo "PASS $name (${secs}s, $(tail -n 1 "$out"))"
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
			echo "FAIL $name (${secs}s, timed out after 120 s)"
		else
			echo "FAIL $name (${secs}s, exit $rc)"
		fi
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
	# a skipped part of a passing test is worth a line of its own
	if [ $rc -eq 0 ] && [ -z "${VERBOSE:-}" ]; then
		grep '^SKIP ' "$out" | sed 's/^/    /'
	fi
	return 0
}

one t_brand "$HERE/t_brand.sh" "$DIOS_TOOL" "$BIN/brand_hello"
one t_launch "$BIN/t_launch" "$DIOS_LAUNCH" "$BIN/launch_probe" "${rust_probe[@]}"

[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
