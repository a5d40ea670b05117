#!/bin/sh
# abi_gen.sh HEADER - list what abi_dump prints, read from dios_abi.h itself so
# a field or constant added to the header is dumped without editing abi_dump.c:
#   STRUCT(s)    each of the wire structs
#   FIELD(s, f)  every field of those structs, in header order
#   NUM(X)       every object-like macro with a numeric value, every enum constant
#   STR(X)       every macro whose value is a string literal
#   ERRNO(E)     every error code DIOS_E<code>, to check against <errno.h>
#
# abi_gen.sh --api HEADER - the same for the public API header dios.h (its own
# structs and macros, not those of dios_abi.h it includes), which the clients
# that call libdlibc through FFM lay out by hand:
#   API_STRUCT(s)    every struct dios.h defines with a body (by its tag)
#   API_FIELD(s, f)  every field of those structs, in header order
#   API_NUM(X)       every numeric D_/DIOS_ macro of dios.h
#   API_STR(X)       every string D_/DIOS_ macro of dios.h
set -eu
if [ "${1:-}" = --api ]; then
	hdr=${2:?usage: abi_gen.sh --api dios.h}
	exec awk '
	# one declaration list between the braces: comments dropped, split at ";",
	# the last word of each declaration is the field (pointers, arrays stripped)
	function fields(s, body,   n, d, i, w, k, name) {
		while (match(body, /\/\*([^*]|\*+[^*\/])*\*+\//))
			body = substr(body, 1, RSTART - 1) " " substr(body, RSTART + RLENGTH)
		n = split(body, d, /;/)
		for (i = 1; i <= n; i++) {
			sub(/\[.*/, "", d[i])
			gsub(/\*/, " ", d[i])
			k = split(d[i], w, /[ \t]+/)
			name = ""
			while (k > 0 && name == "") name = w[k--]
			if (name != "") print "API_FIELD(" s ", " name ")"
		}
	}
	s == "" && /^(typedef )?struct dios_[a-z0-9_]+ \{/ {
		s = $0; sub(/^(typedef )?struct /, "", s); sub(/ .*/, "", s)
		print "API_STRUCT(" s ")"
		body = $0; sub(/^[^{]*\{/, "", body)
		if (body ~ /\}/) { sub(/\}.*/, "", body); fields(s, body); s = "" }
		next
	}
	s != "" {
		if ($0 ~ /^\}/) { fields(s, body); s = "" }
		else body = body " " $0
		next
	}
	/^#define (D_|DIOS_)[A-Z0-9_]+[ \t]+[^ \t]/ {
		name = $2
		line = $0; sub(/^#define [A-Z0-9_]+[ \t]+/, "", line)
		if (substr(line, 1, 1) == "\"") print "API_STR(" name ")"
		else print "API_NUM(" name ")"
	}
	' "$hdr"
fi
hdr=${1:?usage: abi_gen.sh dios_abi.h}

awk '
/^struct dios_(sqe|cqe|region_header|msg_hello|msg_welcome|msg_segment|msg_exe_fd|fifo_ctl|run_args|task_exit) \{/ {
	s = $2; print "STRUCT(" s ")"; next
}
s != "" && /^\};/ { s = ""; next }
s != "" && /;/ {
	line = $0
	sub(/\/\*.*/, "", line)          # drop the comment
	sub(/;.*/, "", line)             # up to the semicolon
	sub(/\[.*/, "", line)            # array: name without brackets
	n = split(line, w, /[ \t]+/)
	if (n >= 2) print "FIELD(" s ", " w[n] ")"
}
/^(typedef )?enum [a-z_]+ \{/ { in_enum = 1; next }
in_enum && /^\}/ { in_enum = 0; next }
in_enum && /^[ \t]*D_[A-Z0-9_]+/ {
	line = $0; sub(/^[ \t]*/, "", line); sub(/[^A-Z0-9_].*/, "", line)
	print "NUM(" line ")"
}
/^#define (D_|DIOS_)[A-Z0-9_]+[ \t]+[^ \t]/ {
	name = $2
	line = $0; sub(/^#define [A-Z0-9_]+[ \t]+/, "", line)
	if (substr(line, 1, 1) == "\"") print "STR(" name ")"
	else print "NUM(" name ")"
	if (name ~ /^DIOS_E[A-Z0-9]+$/) print "ERRNO(" substr(name, 6) ")"
}
' "$hdr"
