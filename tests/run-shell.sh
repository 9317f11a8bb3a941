#!/bin/sh
# Runs every whole-program test in tests/shell/*.sh against the real binary
# ($IVL) on real files, each in its own temporary directory.
# Prints "N passed, N failed" and exits non-zero if any failed.
set -u
: "${IVL:?set IVL to the ivl binary}"
# The scripts read English messages; the Chinese interface test sets its own
# LANG. A developer's locale must not change what the other scripts see.
unset LC_ALL LC_MESSAGES LANGUAGE
export LANG=C
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
failed=""
for t in "$here"/shell/[0-9]*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ivl-test-$name.XXXXXX")
    # The auditor's verification cache stays inside the test's directory.
    if (cd "$dir" && XDG_CACHE_HOME="$dir/.cache" IVL="$IVL" TESTS="$here" SHARED="$here/../../shared" \
        sh "$t") >"$dir.log" 2>&1; then
        pass=$((pass + 1))
        echo "ok   $name"
        rm -rf "$dir" "$dir.log"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name (log: $dir.log)"
        tail -n 20 "$dir.log" | sed 's/^/     /'
    fi
done
echo "shell: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
