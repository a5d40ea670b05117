#!/usr/bin/env bash
# layers.sh - which of the shim's source files calls which, from the built
# objects, and whether they call downward only.
#
#   tools/layers.sh [-v] [SHIMDIR]           print the file-level graph
#   tools/layers.sh --check [-v] [SHIMDIR]   check it against LAYERS below
#
# SHIMDIR defaults to this script's libdlibc-shim; its src/dios_*.c are the
# files and build/obj/<file>.o their objects (make -C libdlibc-shim builds
# them).  A file uses another when its object has an undefined symbol (a
# function it calls or a variable it uses) that the other's object defines:
# `nm -u` against `nm --defined-only`.  Static functions, and inline ones
# from the headers, stay inside their file.  A call to a symbol libdlibc
# exports and also defines (mmap, malloc) binds to libdlibc's own at run
# time, so it counts as a use of the file defining it.
#
# The graph: "file -> files it uses" (-v: with the symbols), then each
# cycle, a set of files every one of which reaches all the others.
#
# --check: every file must be in a layer of LAYERS and use only files of the
# layers below its own, never one of its own layer or above, so no two files
# can call each other round.  Exit 0 and one line when they do; else each
# offending use, or a file in no layer, and exit 1.  Run by
# tests/t_layers.sh (tests/run-tests.sh, make check-c) and make -C
# libdlibc-shim check.

# The layers, top to bottom: files | what they are.
LAYERS=$(cat <<'EOF'
dios_fork                      | start-up and fork: calls every layer's part, in order
dios_malloc                    | which heap a task uses; the Pure DIOS heap lock; sbrk, brk
dios_heap                      | the DIOS heap: malloc and friends, mmap, munmap
dios_calls dios_batch          | the public calls
dios_ring                      | the engine: submission, args area, call slots, completions
dios_codec                     | each op's encode and decode
dios_fifo                      | FIFO ends, in place
dios_seg dios_buf              | the segment cache; buffer records
dios_conn                      | registration, the region, the daemon's liveness
dios_meta dios_error dios_name | the shim's own memory; error text; names
EOF
)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECK=0 VERBOSE=0
while [ $# -gt 0 ]; do
	case $1 in
	--check) CHECK=1; shift ;;
	-v) VERBOSE=1; shift ;;
	-*) echo "usage: $0 [--check] [-v] [SHIMDIR]" >&2; exit 2 ;;
	*) break ;;
	esac
done
SHIM=${1:-$HERE/..}

shopt -s nullglob
srcs=("$SHIM"/src/dios_*.c)
shopt -u nullglob
if [ ${#srcs[@]} -eq 0 ]; then
	echo "layers.sh: no sources in $SHIM/src" >&2
	exit 2
fi

# "D file symbol" and "U file symbol" lines, one per symbol (POSIX nm output: name first)
syms() {
	local s f o
	for s in "${srcs[@]}"; do
		f=$(basename "$s")
		o=$SHIM/build/obj/${f%.c}.o
		if [ ! -f "$o" ]; then
			echo "layers.sh: no object $o for $f (make -C libdlibc-shim first)" >&2
			return 2
		fi
		nm -P -g --defined-only "$o" | awk -v f="$f" '{ print "D", f, $1 }'
		nm -P -u "$o" | awk -v f="$f" '{ print "U", f, $1 }'
	done
}
table=$(syms)

printf '%s\n' "$table" | awk -v verbose="$VERBOSE" -v check="$CHECK" -v layers="$LAYERS" '
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
		if (check)
			exit check_layers()
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
	}

	function check_layers(    nl, l, k, w, nw, bad, i, j, a, b, nedge) {
		nl = split(layers, l, "\n")
		for (k = 1; k <= nl; k++) {
			sub(/\|.*/, "", l[k])
			nw = split(l[k], w, " ")
			for (j = 1; j <= nw; j++)
				rank[w[j] ".c"] = k
		}
		bad = 0
		for (i = 1; i <= n; i++)
			if (!(name[i] in rank)) {
				print "layers: " name[i] " is in no layer: place it in LAYERS (tools/layers.sh)"
				bad = 1
			}
		for (i = 1; i <= n; i++)
			for (j = 1; j <= n; j++) {
				a = name[i]; b = name[j]
				if (!((a, b) in edge) || !(a in rank) || !(b in rank))
					continue
				nedge++
				if (rank[a] < rank[b])
					continue
				print "layers: " a " uses " b (rank[a] == rank[b] ? ", a file of its own layer" : ", a layer above it") \
					" (" substr(edge[a, b], 2) ")"
				bad = 1
			}
		if (!bad)
			print "layers: ok: " n " files in " nl " layers, " nedge " uses, all downward"
		return bad
	}'
