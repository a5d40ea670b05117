#!/bin/sh
# abi_gen.sh HEADER - list what abi_dump prints, read from dios_abi.h itself so
# a field or constant added to the header is dumped without editing abi_dump.c:
#   STRUCT(s)    each of the wire structs
#   FIELD(s, f)  every field of those structs, in header order
#   NUM(X)       every object-like macro with a numeric value, every enum constant
#   STR(X)       every macro whose value is a string literal
#   ERRNO(E)     every error code DIOS_E<code>, to check against <errno.h>
set -eu
hdr=${1:?usage: abi_gen.sh dios_abi.h}

awk '
/^struct dios_(sqe|cqe|region_header|msg_hello|msg_welcome|msg_segment|fifo_ctl|run_args|task_exit) \{/ {
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
