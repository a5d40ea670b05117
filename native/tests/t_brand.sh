#!/usr/bin/env bash
# t_brand.sh - `dios brand`: stamps each brand, --show reads it back, a branded
# program still runs, and what is not an ELF file of this machine is refused
# with a message, exit 1 and the file unchanged.
#
#   t_brand.sh DIOS HELLO     (DIOS: the tool; HELLO: build/tests/brand_hello)
#
# One "PASS name" or "FAIL name: why" line per check; exit 0 all passed, 1 not.
set -u
DIOS=${1:?usage: t_brand.sh DIOS HELLO}
HELLO=${2:?usage: t_brand.sh DIOS HELLO}
failures=0 checks=0
tmp=$(mktemp -d /tmp/dios-t-brand.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1: $2"; }

# run NAME WANT_RC WANT_STDOUT [STDERR_PATTERN] -- CMD...: exit code and stdout exactly, stderr matching
run() {
	local name=$1 want_rc=$2 want_out=$3 pat=$4
	shift 5
	local out err rc
	out=$("$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc (stdout '$out', stderr '$err')"
	elif [ "$out" != "$want_out" ]; then
		fail "$name" "stdout '$out', want '$want_out'"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$err"; then
		fail "$name" "stderr '$err' does not match /$pat/"
	elif [ -z "$pat" ] && [ -n "$err" ]; then
		fail "$name" "unexpected stderr '$err'"
	else
		pass "$name"
	fi
}

# bytes 7 and 8 (EI_OSABI, EI_ABIVERSION) in hex
ident78() { od -An -tx1 -j7 -N2 "$1" | tr -d ' \n'; }

cp "$HELLO" a; cp "$HELLO" b; cp "$HELLO" c; cp "$HELLO" d
orig=$(ident78 a)

run "an unbranded program shows as unbranded, exit 1" 1 "a: unbranded (OSABI 0x${orig:0:2} ABIVERSION 0x${orig:2:2})" "" -- "$DIOS" brand --show a
run "brand --pure" 0 "" "" -- "$DIOS" brand --pure a
[ "$(ident78 a)" = d105 ] && pass "--pure wrote OSABI 0xd1 ABIVERSION 0x05" || fail "--pure wrote OSABI 0xd1 ABIVERSION 0x05" "bytes 7-8 are $(ident78 a)"
run "brand --limbo" 0 "" "" -- "$DIOS" brand --limbo b
[ "$(ident78 b)" = d111 ] && pass "--limbo wrote 0xd1 0x11" || fail "--limbo wrote 0xd1 0x11" "bytes 7-8 are $(ident78 b)"
run "brand --legacy-limbo" 0 "" "" -- "$DIOS" brand --legacy-limbo c
[ "$(ident78 c)" = d113 ] && pass "--legacy-limbo wrote 0xd1 0x13" || fail "--legacy-limbo wrote 0xd1 0x13" "bytes 7-8 are $(ident78 c)"
run "--show reads all three back, exit 0" 0 $'a: pure\nb: limbo\nc: legacy-limbo' "" -- "$DIOS" brand --show a b c
cmp -s -i 9 "$HELLO" a && cmp -s -n 7 "$HELLO" a && pass "only bytes 7 and 8 changed" || fail "only bytes 7 and 8 changed" "cmp: $(cmp "$HELLO" a 2>&1 | head -1)"
run "a branded program still runs (Linux ignores the brand)" 0 "hello" "" -- ./a
run "re-branding: --limbo over --pure" 0 "" "" -- "$DIOS" brand --limbo a
run "--show after re-branding" 0 "a: limbo" "" -- "$DIOS" brand --show a
run "several files at once" 0 "" "" -- "$DIOS" brand --pure a b
run "--show of several" 0 $'a: pure\nb: pure' "" -- "$DIOS" brand --show a b
run "--show with one unbranded among them: exit 1" 1 $'a: pure\nd: unbranded (OSABI 0x'"${orig:0:2}"' ABIVERSION 0x'"${orig:2:2}"')' "" -- "$DIOS" brand --show a d
cp "$HELLO" odd && printf '\xd1\x07' | dd of=odd bs=1 seek=7 conv=notrunc status=none
run "OSABI 0xd1 with an unknown brand is unbranded" 1 "odd: unbranded (OSABI 0xd1 ABIVERSION 0x07)" "" -- "$DIOS" brand --show odd

# refused: not ELF, truncated, another class or byte order, missing; the file stays as it was
refuse() {
	local name=$1 file=$2 pat=$3
	local before
	before=$(od -An -tx1 "$file" 2>/dev/null | md5sum)
	run "$name: refused, exit 1" 1 "" "$pat" -- "$DIOS" brand --pure "$file"
	[ "$(od -An -tx1 "$file" 2>/dev/null | md5sum)" = "$before" ] && pass "$name: unchanged" || fail "$name: unchanged" "the file changed"
}
printf 'just some text, long enough to have bytes 7 and 8\n' > text
refuse "a text file" text "^dios brand: text: not an ELF file; not branded$"
run "--show of a text file: not an ELF file, exit 1" 1 "text: not an ELF file" "" -- "$DIOS" brand --show text
head -c 10 "$HELLO" > short
refuse "an ELF file cut to 10 bytes" short "^dios brand: short: not an ELF file; not branded$"
run "--show of a truncated ELF file: not an ELF file, exit 1" 1 "short: not an ELF file" "" -- "$DIOS" brand --show short
: > empty
refuse "an empty file" empty "not an ELF file"
run "--show of an empty file" 1 "empty: not an ELF file" "" -- "$DIOS" brand --show empty
cp "$HELLO" class32 && printf '\x01' | dd of=class32 bs=1 seek=4 conv=notrunc status=none
refuse "a 32-bit ELF file" class32 "^dios brand: class32: not a 64-bit ELF file"
cp "$HELLO" bigend && printf '\x02' | dd of=bigend bs=1 seek=5 conv=notrunc status=none
refuse "a big-endian ELF file" bigend "^dios brand: bigend: ELF file of the other byte order"
run "a missing file: exit 1" 1 "" "^dios brand: nosuch: No such file or directory$" -- "$DIOS" brand --pure nosuch
run "--show of a missing file: exit 1" 1 "" "^dios brand: nosuch: No such file or directory$" -- "$DIOS" brand --show nosuch
run "a directory: exit 1" 1 "" "^dios brand: \.: Is a directory$" -- "$DIOS" brand --pure .
run "good and bad files: the good one is branded, exit 1" 1 "" "text: not an ELF file" -- "$DIOS" brand --legacy-limbo text d
run "... and --show agrees" 0 "d: legacy-limbo" "" -- "$DIOS" brand --show d

# a running program cannot be written (ETXTBSY)
cp "$HELLO" busy
./busy wait >/dev/null &
busy_pid=$!
sleep 0.3
run "a running program: refused, exit 1" 1 "" "Text file busy" -- "$DIOS" brand --pure busy
kill "$busy_pid" 2>/dev/null; wait "$busy_pid" 2>/dev/null

# the command line
run "no mode: exit 2" 2 "" "say --pure, --limbo, --legacy-limbo or --show" -- "$DIOS" brand a
run "no FILE: exit 2" 2 "" "no FILE given" -- "$DIOS" brand --pure
run "two modes: exit 2" 2 "" "one at a time" -- "$DIOS" brand --pure --limbo a
run "unknown option: exit 2" 2 "" "unknown option '--purest'" -- "$DIOS" brand --purest a
run "brand --help: exit 0" 0 "$("$DIOS" brand --help 2>/dev/null)" "" -- "$DIOS" brand --help
"$DIOS" brand --help | grep -q -- "--legacy-limbo" && pass "brand --help names the brands" || fail "brand --help names the brands" "no --legacy-limbo in it"
"$DIOS" --help | grep -qE "^  brand " && pass "dios --help lists brand" || fail "dios --help lists brand" "no brand line"
run "options before the command still work (dios --raw brand --show)" 0 "a: pure" "" -- "$DIOS" --raw brand --show a

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
