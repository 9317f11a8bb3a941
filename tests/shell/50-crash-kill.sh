#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Crashes for real (SPEC §6 "Durable"): appending `ivl` processes are killed
# with SIGKILL at random moments, hundreds of times; after every batch of
# kills the ledger verifies, its sequence numbers are contiguous and every
# acknowledged entry (exit 0, id printed) is in it (tests/faults/crashkill.py).
# Then, with the LD_PRELOAD shim tests/faults/failio.c:
#  - a crash at exactly each write/sync call of a commit (SIGKILL before it);
#  - the Nth call of the commit failing with EIO or ENOSPC (once, or the disk
#    staying dead, or a torn data write): exit 4, a clear one-line message,
#    nothing appended, `ivl verify` 0, and the next append (no shim) works.
# An LMDB commit is: pwrite/writev of the dirty pages to data.mdb, fdatasync,
# then pwrite of the meta page through an O_DSYNC descriptor (no msync: the
# map is read-only); `strace -f ivl issue ...` shows it.
set -eu
. "${TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/faults/lib.sh"
need_shim
small_ledger crash.test/ivl 1000000000
NKEYS=100
for i in $(seq 0 $((NKEYS - 1))); do "$IVL" keygen "k$i" --unencrypted >/dev/null; done

issue() { ivl issue --budget B --to "$SME" --amount 0.01 --key auth.key; }

echo "-- a crash at each write or sync call of a commit"
n=1
while :; do
    before=$(state)
    rm -f calls.log
    rc=0
    # (in a subshell whose stderr is dropped: no "Killed" notice from bash)
    (LD_PRELOAD=$SHIM IVL_FAULT_N=$n IVL_FAULT_ACTION=kill \
        IVL_FAULT_LOG=calls.log "$IVL" -L "$L" issue --budget B --to "$SME" --amount 0.01 \
        --key auth.key >out 2>err; exit $?) 2>/dev/null || rc=$?
    acted=$(grep '^acted' calls.log || true)
    [ -n "$acted" ] || { [ "$rc" -eq 0 ] || fail "no call $n, yet exit $rc"; break; }
    [ "$rc" -eq 137 ] || fail "killed at call $n ($acted) but exit $rc"
    after=$(state)
    [ "$after" = "$before" ] || fail "crash at call $n ($acted) changed the ledger: $before -> $after"
    ivl verify >/dev/null 2>err || fail "verify after a crash at call $n ($acted): $(cat err)"
    v=$(timeout 20 "$IVL" -L "$L" issue --budget B --to "$SME" --amount 0.01 --key auth.key) ||
        fail "append after a crash at call $n failed"
    ivl show "$v" >/dev/null || fail "show $v"
    echo "   crash at call $n (${acted#acted }): ok"
    n=$((n + 1))
    [ "$n" -le 24 ] || fail "a commit makes more than 23 write/sync calls?"
done
[ "$n" -ge 4 ] || fail "only $((n - 1)) calls seen in a commit"
# A crash right after the commit, at the write of the id: in the ledger,
# never acknowledged.
before=$(state)
rc=0
(LD_PRELOAD=$SHIM IVL_FAULT_N=1 IVL_FAULT_ACTION=kill IVL_FAULT_CALLS=stdio \
    "$IVL" -L "$L" issue --budget B --to "$SME" --amount 0.01 --key auth.key >out 2>err; exit $?) 2>/dev/null || rc=$?
[ "$rc" -eq 137 ] && [ ! -s out ] || fail "crash at the id's write: exit $rc, out '$(cat out)'"
after=$(state)
[ "${after%% *}" -eq $((${before%% *} + 1)) ] || fail "crash after commit: size ${before%% *} -> ${after%% *}"
ivl verify >/dev/null || fail "verify after a crash after commit"
echo "   crash at the write of the id: appended, unacknowledged, verifies"

echo "-- the Nth write/sync call of a commit fails"
faults=0
for mode in "EIO fail 0" "ENOSPC fail 0" "EIO fail 1" "ENOSPC fail 1" "EIO short 0"; do
    set -- $mode
    n=1
    while :; do
        before=$(state)
        rm -f calls.log
        rc=0
        LD_PRELOAD=$SHIM IVL_FAULT_N=$n IVL_FAULT_ERRNO=$1 IVL_FAULT_ACTION=$2 IVL_FAULT_STICKY=$3 \
            IVL_FAULT_CALLS=pwrite,writev,fsync,fdatasync,msync IVL_FAULT_LOG=calls.log \
            "$IVL" -L "$L" issue --budget B --to "$SME" --amount 0.01 --key auth.key >out 2>err || rc=$?
        acted=$(grep '^acted' calls.log || true)
        after=$(state)
        if [ -z "$acted" ]; then # fewer than n calls: the append went through
            [ "$rc" -eq 0 ] || fail "[$mode] no fault injected at $n, yet exit $rc: $(cat err)"
            [ "${after%% *}" -eq $((${before%% *} + 1)) ] || fail "[$mode] append without fault did not append"
            break
        fi
        faults=$((faults + 1))
        [ "$rc" -eq 4 ] || fail "[$mode] call $n (${acted#acted }) failed: exit $rc, want 4: $(cat err)"
        [ "$(wc -l <err)" -eq 1 ] && grep -q '^ivl: ' err || fail "[$mode] message not one 'ivl:' line: $(cat err)"
        case $1 in
        ENOSPC) grep -qi 'no space left on device' err || fail "[$mode] message: $(cat err)" ;;
        EIO) grep -qi 'input/output error' err || fail "[$mode] message: $(cat err)" ;;
        esac
        [ ! -s out ] || fail "[$mode] a failed append printed an id: $(cat out)"
        msg=$(cat err)
        [ "$after" = "$before" ] || fail "[$mode] failed call $n changed the ledger: $before -> $after"
        ivl verify >/dev/null 2>err || fail "[$mode] verify after failed call $n: $(cat err)"
        v=$(issue) || fail "[$mode] append after a failed call $n"
        ivl show "$v" >/dev/null || fail "show $v"
        echo "   [$mode] call $n (${acted#acted }): exit 4, $msg"
        n=$((n + 1))
        [ "$n" -le 24 ] || fail "more than 23 calls?"
    done
done
[ "$faults" -ge 15 ] || fail "only $faults faults injected"

echo "-- random SIGKILLs of concurrent writers"
KILLS=${KILLS:-300} SECONDS_MAX=${SECONDS_MAX:-40} "$PY" "$TESTS/faults/crashkill.py" "$IVL" "$L" "$W" "$SME" k "$NKEYS"

ivl verify >/dev/null || fail "final verify"
echo "50-crash-kill: $faults injected I/O faults, all refused cleanly"
