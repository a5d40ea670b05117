#!/usr/bin/env bash
# t_layers.sh - the shim's source files call one another downward only, in the
# layers tools/layers.sh names: checked on the objects libdlibc was linked from.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$HERE/../tools/layers.sh" --check "$HERE/.."
