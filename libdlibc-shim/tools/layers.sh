#!/usr/bin/env bash
# layers.sh - which of the shim's source files calls which, from the built objects.
#
#   tools/layers.sh [-v] [OBJDIR]      print the file-level graph
#
# OBJDIR defaults to build/obj (make -C libdlibc-shim builds it).  A file uses
# another when its object has an undefined symbol (a function it calls or a
# variable it uses) that the other's object defines: `nm -u` against
# `nm --defined-only`.  Static functions, and inline ones from the headers,
# stay inside their file.  A call to a symbol libdlibc exports and also
# defines (mmap, malloc) binds to libdlibc's own at run time, so it counts
# as a use of the file defining it.
#
# Prints "file -> files it uses" (-v: with the symbols), then each cycle:
# a set of files every one of which reaches all the others.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERBOSE=0
if [ "${1:-}" = -v ]; then
	VERBOSE=1
	shift
fi
OBJ=${1:-$HERE/../build/obj}

shopt -s nullglob
objs=("$OBJ"/*.o)
shopt -u nullglob
if [ ${#objs[@]} -eq 0 ]; then
	echo "layers.sh: no objects in $OBJ (make -C libdlibc-shim first)" >&2
	exit 2
fi

# "D file symbol" and "U file symbol" lines, one per symbol (POSIX nm output: name first)
for o in "${objs[@]}"; do
	f=$(basename "$o" .o).c
	nm -P -g --defined-only "$o" | awk -v f="$f" '{ print "D", f, $1 }'
	nm -P -u "$o" | awk -v f="$f" '{ print "U", f, $1 }'
done | awk -v verbose="$VERBOSE" '
	$1 == "D" { def[$3] = $2; files[$2] = 1; next }
	$1 == "U" { files[$2] = 1; use[++nu] = $2 SUBSEP $3 }
	END {
		for (i = 1; i <= nu; i++) {
			split(use[i], p, SUBSEP)
			to = def[p[2]]
			if (to == "" || to == p[1])
				continue
			if (!((p[1], to) in edge))
				edge[p[1], to] = ""
			edge[p[1], to] = edge[p[1], to] " " p[2]
		}
		n = 0
		for (f in files)
			name[++n] = f
		for (i = 2; i <= n; i++)            # sorted, for a stable output
			for (j = i; j > 1 && name[j - 1] > name[j]; j--) {
				t = name[j]; name[j] = name[j - 1]; name[j - 1] = t
			}
		for (i = 1; i <= n; i++) {
			line = name[i] " ->"
			for (j = 1; j <= n; j++)
				if ((name[i], name[j]) in edge)
					line = line " " name[j] (verbose ? " (" substr(edge[name[i], name[j]], 2) ")" : "")
			print line
		}
		# reachability (a handful of files: the plain closure will do)
		for (i = 1; i <= n; i++)
			for (j = 1; j <= n; j++)
				reach[i, j] = ((name[i], name[j]) in edge)
		for (k = 1; k <= n; k++)
			for (i = 1; i <= n; i++)
				if (reach[i, k])
					for (j = 1; j <= n; j++)
						if (reach[k, j])
							reach[i, j] = 1
		for (i = 1; i <= n; i++) {
			if (done[i] || !reach[i, i])
				continue
			line = "cycle:"
			for (j = 1; j <= n; j++)
				if (reach[i, j] && reach[j, i]) {
					line = line " " name[j]
					done[j] = 1
				}
			print line
		}
	}'
