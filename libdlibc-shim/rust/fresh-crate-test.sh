#!/usr/bin/env bash
# fresh-crate-test.sh - a crate outside this workspace that depends on dios
# builds, brands and runs its tasks with one step: dist/bin/dios-cargo.
#
#   DIST=<dist> fresh-crate-test.sh          (make check-rust runs it)
#
# Writes a new crate in a temp directory (no workspace above it, offline, its
# only dependency the dios crate by path: this tree's, then the installed
# copy in DIST/share/dios/rust), builds it with DIST/bin/dios-cargo, starts a
# daemon of DIST and runs the program with no LD_LIBRARY_PATH: it spawns a
# task (dios::spawn_task) that answers over its channel with a variable of
# its inherited environment.  Then the same crate built with plain cargo
# (unbranded, found through LD_LIBRARY_PATH): spawn_task fails with the
# error that says how to brand it.  Exit 0 pass, 1 fail, 77 skip (no cargo).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIST=${DIST:-$REPO/dist}
WAIT=$REPO/perf/build/wait_socket
command -v cargo >/dev/null || { echo "fresh-crate-test: SKIP (no cargo)"; exit 77; }
for f in "$DIST/bin/diosd" "$DIST/bin/dios-cargo" "$DIST/libexec/dios/cc-brand"; do
	[ -x "$f" ] || { echo "fresh-crate-test: $f is missing (make dist)" >&2; exit 1; }
done
if [ ! -x "$WAIT" ] && ! make -s -C "$REPO/perf" "$WAIT" >/dev/null; then
	echo "fresh-crate-test: cannot build $WAIT (make -C perf)" >&2
	exit 1
fi

TMP=$(mktemp -d /tmp/dios-fresh-crate.XXXXXX)
DPID=
fails=0
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL fresh-crate-test: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok   fresh-crate-test: $*"; }

# the crate: no workspace above /tmp, so none of this tree's .cargo/config.toml applies
make_crate() { # DIR DIOS-PATH
	mkdir -p "$1/src"
	cat >"$1/Cargo.toml" <<EOT
[package]
name = "fresh-dios"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
dios = { path = "$2" }
EOT
	cat >"$1/src/main.rs" <<'EOT'
/// The task: doubles the number it is sent, and answers with FRESH_MARK as it
/// inherited it.
fn child(chan: dios::Channel) {
    let n: u32 = chan.recv().unwrap();
    chan.send(n * 2).unwrap();
    chan.send(std::env::var("FRESH_MARK").unwrap_or_default()).unwrap();
}
dios::entries!(child);

fn main() {
    let c = match dios::spawn_task(child) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("spawn_task: {e}");
            std::process::exit(3);
        }
    };
    c.send(21u32).unwrap();
    let n: u32 = c.recv().unwrap();
    let mark: String = c.recv().unwrap();
    assert!(c.wait().unwrap().success());
    println!("fresh crate: the task answered {n}, FRESH_MARK={mark}");
}
EOT
}

setsid "$DIST/bin/diosd" --socket "$TMP/d.sock" --state-dir "$TMP/state" </dev/null >"$TMP/diosd.log" 2>&1 &
DPID=$!
"$WAIT" "$TMP/d.sock" 30 || { echo "fresh-crate-test: diosd did not come up" >&2; cat "$TMP/diosd.log" >&2; exit 1; }
for _ in $(seq 900); do grep -q "diosd: serving tasks" "$TMP/diosd.log" && break; sleep 0.1; done
export DIOS_SOCKET=$TMP/d.sock

check_branded() { # NAME DIOS-PATH
	local dir=$TMP/$1
	make_crate "$dir" "$2"
	if ! (cd "$dir" && timeout -k 10 900 "$DIST/bin/dios-cargo" build --offline -q) >"$TMP/$1.build" 2>&1; then
		fail "$1: dios-cargo build failed:"$'\n'"$(tail -n 30 "$TMP/$1.build")"
		return
	fi
	local bin=$dir/target/debug/fresh-dios
	"$DIST/bin/dios" brand --show "$bin" 2>&1 | grep -qi limbo || fail "$1: not branded DIOS Limbo: $("$DIST/bin/dios" brand --show "$bin" 2>&1)"
	local out
	out=$(env -u LD_LIBRARY_PATH FRESH_MARK="inherited by the task" timeout 60 "$bin" </dev/null 2>&1)
	local rc=$?
	if [ $rc -eq 0 ] && [ "$out" = "fresh crate: the task answered 42, FRESH_MARK=inherited by the task" ]; then
		ok "$1: built by dios-cargo, runs its task with no LD_LIBRARY_PATH"
	else
		fail "$1: exit $rc, output:"$'\n'"$out"
	fi
}
check_branded by-path "$REPO/libdlibc-shim/rust/dios"
check_branded installed "$DIST/share/dios/rust/dios"

# plain cargo: no brand (and no rpath: LD_LIBRARY_PATH finds libdlibc); the error says how to brand
dir=$TMP/by-path
if (cd "$dir" && CARGO_TARGET_DIR=$TMP/plain timeout -k 10 900 cargo build --offline -q) >"$TMP/plain.build" 2>&1; then
	out=$(LD_LIBRARY_PATH=$DIST/lib timeout 60 "$TMP/plain/debug/fresh-dios" </dev/null 2>&1)
	rc=$?
	if [ $rc -eq 3 ] && [[ $out == *"lacks a DIOS brand"* ]] && [[ $out == *"dios brand --limbo PROGRAM"* ]] &&
		[[ $out == *dios-cargo* ]]; then
		ok "plain cargo: unbranded, and spawn_task says how to brand it"
	else
		fail "plain cargo build: exit $rc, output:"$'\n'"$out"
	fi
else
	fail "plain cargo build failed:"$'\n'"$(tail -n 30 "$TMP/plain.build")"
fi

[ $fails -eq 0 ] || { echo "----- tail of the daemon log -----" >&2; tail -n 30 "$TMP/diosd.log" >&2; exit 1; }
exit 0
