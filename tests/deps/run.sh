#!/bin/sh
# scripts/module-deps on each fixture folder here: its edges, cycles and
# exit status must be those of the folder's `expected` file.  common/
# stands for the shared headers beside the module's folder.
# `make deps-check-selftest` runs it.

here=$(cd "$(dirname "$0")" && pwd)
deps="$here/../../scripts/module-deps"
failed=0

for dir in "$here"/*/; do
    [ -f "$dir/expected" ] || continue      # common/: headers beside them
    name=$(basename "$dir")
    out=$("$deps" "$dir" 2>&1; echo "exit $?")
    if [ "$out" = "$(cat "$dir/expected")" ]; then
        echo "deps-check-selftest: $name: ok"
    else
        echo "deps-check-selftest: $name: FAILED; got:"
        echo "$out"
        failed=1
    fi
done

exit $failed
