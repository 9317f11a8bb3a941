#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Concurrency for real (SPEC §6 "Safe under concurrency"):
#  - 8 writer processes x 12 appends at once (one of them also revokes its
#    own vouchers): all exit 0, nothing lost or duplicated, sequence numbers
#    contiguous, `ivl verify` 0;
#  - meanwhile readers (`budget show`, `balance`, `status`, `verify`) always
#    succeed and each read is one consistent snapshot: available = total -
#    issued + released, issued = 1.00 x vouchers, total_remaining = the sum
#    of the listed vouchers, and sizes never go backwards;
#  - a reader killed (SIGKILL) while it holds its LMDB reader slot (`ivl log`
#    stopped mid-listing, `ivl verify` and `ivl export` mid-run) blocks no
#    later writer, and neither does a writer killed holding the write lock
#    while others wait for it.
set -eu
. "${TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/faults/lib.sh"
need_shim
small_ledger conc.test/ivl 1000000
base=$(state)
base=${base%% *}

N=8 M=12
echo "-- $N writers x $M appends, with readers"
writer() { # writer I: M issues (writer 0 revokes each voucher it issued)
    local i=$1 k v rc
    for ((k = 0; k < M; k++)); do
        rc=0
        v=$("$IVL" -L "$L" issue --budget B --to "$SME" --amount 1 --key auth.key 2>>"w$i.err") || rc=$?
        [ "$rc" -eq 0 ] || { echo "issue exit $rc" >>"w$i.err"; return 1; }
        echo "$v" >>"w$i.ids"
        if [ "$i" -eq 0 ]; then
            "$IVL" -L "$L" --json revoke "$v" --reason "test $k" --key auth.key >>"w$i.rev" 2>>"w$i.err" ||
                { echo "revoke exit $?" >>"w$i.err"; return 1; }
        fi
    done
}

rm -f stop
"$PY" - "$IVL" "$L" "$SME" >readers.out 2>&1 <<'EOF' &
import json, os, subprocess, sys
ivl, led, sme = sys.argv[1:4]
def run(*a):
    p = subprocess.run([ivl, "-L", led, "--json"] + list(a), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print("FAIL: reader %s exited %d: %s" % (a, p.returncode, p.stderr.strip()))
        sys.exit(1)
    return json.loads(p.stdout)
fen = lambda s: int(s.replace(".", ""))
reads = 0
last_size = last_issued = last_n = 0
kinds = ["budget", "status", "balance", "budget", "verify"]
while not os.path.exists("stop") or reads < 10:
    k = kinds[reads % len(kinds)]
    reads += 1
    if k == "budget":
        b = run("budget", "show", "B")
        t, i, r, a = fen(b["total"]), fen(b["issued"]), fen(b["released"]), fen(b["available"])
        if a != t - i + r or i != 100 * b["vouchers"] or i < last_issued:
            print("FAIL: inconsistent budget snapshot: %s (issued before %d)" % (b, last_issued)); sys.exit(1)
        last_issued = i
    elif k == "status":
        s = run("status")
        if s["size"] < last_size:
            print("FAIL: size went back %d -> %d" % (last_size, s["size"])); sys.exit(1)
        last_size = s["size"]
    elif k == "balance":
        b = run("balance", sme)
        tot = sum(fen(v["remaining"]) for v in b["vouchers"])
        if tot != fen(b["total_remaining"]) or len(b["vouchers"]) < last_n:
            print("FAIL: inconsistent balance snapshot: total %s, sum %d, %d vouchers (before %d)"
                  % (b["total_remaining"], tot, len(b["vouchers"]), last_n)); sys.exit(1)
        last_n = len(b["vouchers"])
    else:
        v = run("verify")
        if not v["ok"] or v["size"] < last_size:
            print("FAIL: verify %s" % v); sys.exit(1)
print("readers: %d reads, all consistent" % reads)
EOF
rpid=$!
pids=()
for ((i = 0; i < N; i++)); do
    writer "$i" &
    pids+=($!)
done
bad=0
for ((i = 0; i < N; i++)); do wait "${pids[i]}" || { bad=1; echo "writer $i failed: $(cat "w$i.err")" >&2; }; done
touch stop
rrc=0
wait "$rpid" || rrc=$?
cat readers.out
[ "$bad" -eq 0 ] || fail "a writer failed"
[ "$rrc" -eq 0 ] || fail "a reader failed"
cat w*.ids >acked
[ "$(wc -l <acked)" -eq $((N * M)) ] || fail "$(wc -l <acked) acknowledged issues, want $((N * M))"
[ "$(sort -u acked | wc -l)" -eq $((N * M)) ] || fail "duplicate voucher ids"
ivl --json log >log.json
"$PY" - "$base" $((N * M)) "$M" <<'EOF' || fail "log check"
import json, sys
base, n, m = map(int, sys.argv[1:4])
log = json.load(open("log.json"))
if [e["seq"] for e in log] != list(range(len(log))):
    sys.exit("sequence numbers not contiguous")
if len(log) != base + n + m:
    sys.exit("log has %d entries, want %d" % (len(log), base + n + m))
ids = [e["id"] for e in log]
if len(set(ids)) != len(ids):
    sys.exit("duplicate ids")
acked = open("acked").read().split()
have = {e["id"] for e in log if e["type"] == "issue"}
missing = [a for a in acked if a not in have]
if missing or len(have) != n:
    sys.exit("missing %s; %d issues in the log" % (missing[:3], len(have)))
EOF
ivl verify >/dev/null || fail "verify after the concurrent writers"
b=$(ivl --json budget show B)
eq_field() { [ "$(printf '%s' "$b" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['$1'])")" = "$2" ] || fail "budget $1 != $2: $b"; }
eq_field issued "$((N * M)).00"
eq_field released "$M.00"
eq_field vouchers $((N * M))

# mdb_stat -r lists the reader table (lmdb-utils); optional.
readers_of() {
    if command -v mdb_stat >/dev/null; then
        mdb_stat -r "$L" 2>/dev/null | awk -v p="$1" '$1 == p' | wc -l
    else
        echo 0
    fi
}
append_ok() { # three appends, each within 10 s
    local j
    for j in 1 2 3; do
        timeout 10 "$IVL" -L "$L" issue --budget B --to "$SME" --amount 1 --key auth.key >/dev/null ||
            fail "append $j after $1: exit $?"
    done
    ivl verify >/dev/null || fail "verify after $1"
}

echo "-- a reader killed while it holds its reader slot"
# `ivl log` prints each entry inside its read transaction: stop it at its
# 5th line (SIGSTOP from the shim), check it holds a slot, SIGKILL it.
LD_PRELOAD=$SHIM IVL_FAULT_CALLS=stdio IVL_FAULT_N=5 IVL_FAULT_ACTION=stop "$IVL" -L "$L" log >/dev/null 2>&1 &
p=$!
for _ in $(seq 100); do
    [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = T ] && break
    sleep 0.05
done
[ "$(ps -o stat= -p "$p" | cut -c1)" = T ] || fail "ivl log did not stop"
held=$(readers_of "$p")
echo "   ivl log stopped mid-listing, reader slots held: $held"
append_ok "a stopped reader" # a live reader does not block writers either
kill -9 "$p"
wait "$p" 2>/dev/null || true
append_ok "a reader killed in its read transaction"
[ "$(readers_of "$p")" -eq 0 ] || fail "the dead reader's slot was not reclaimed"

for cmd in "verify" "export --out $W/exp.jsonl"; do
    # stopped at its first write (the replay database of verify, the 3rd
    # line of export's output), then killed
    LD_PRELOAD=$SHIM IVL_FAULT_CALLS=write,pwrite,writev,stdio IVL_FAULT_N=3 IVL_FAULT_ACTION=stop \
        TMPDIR=$W "$IVL" -L "$L" $cmd >/dev/null 2>&1 &
    p=$!
    for _ in $(seq 100); do
        [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = T ] && break
        sleep 0.05
    done
    [ "$(ps -o stat= -p "$p" | cut -c1)" = T ] || fail "ivl $cmd did not stop"
    echo "   ivl ${cmd%% *} stopped mid-run (reader slots held: $(readers_of "$p")), killed"
    kill -9 "$p"
    wait "$p" 2>/dev/null || true
    append_ok "a killed ivl ${cmd%% *}"
done
[ ! -e exp.jsonl ] || fail "a killed export left a partial output file"

echo "-- a writer killed holding the write lock while others wait"
before=$(state)
LD_PRELOAD=$SHIM IVL_FAULT_CALLS=fdatasync IVL_FAULT_N=1 IVL_FAULT_ACTION=stop \
    "$IVL" -L "$L" issue --budget B --to "$SME" --amount 1 --key auth.key >/dev/null 2>&1 &
p=$!
for _ in $(seq 100); do
    [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = T ] && break
    sleep 0.05
done
[ "$(ps -o stat= -p "$p" | cut -c1)" = T ] || fail "the writer did not stop in its commit"
wpids=()
for j in 1 2 3; do
    timeout 20 "$IVL" -L "$L" issue --budget B --to "$SME" --amount 1 --key auth.key >"wait$j.out" 2>"wait$j.err" &
    wpids+=($!)
done
sleep 0.3
for j in 1 2 3; do # they wait for the lock
    kill -0 "${wpids[j - 1]}" 2>/dev/null || fail "writer $j did not wait for the lock: $(cat "wait$j.err")"
done
kill -9 "$p"
wait "$p" 2>/dev/null || true
for j in 1 2 3; do
    wait "${wpids[j - 1]}" || fail "waiting writer $j after the lock holder died: exit $?, $(cat "wait$j.err")"
done
after=$(state)
[ "${after%% *}" -eq $((${before%% *} + 3)) ] || fail "size ${before%% *} -> ${after%% *}, want +3"
ivl verify >/dev/null || fail "verify after the dead lock holder"
left=$(ls -d "$W"/ivl-verify-* 2>/dev/null | wc -l)
echo "   3 waiting writers went on; $left replay directories left behind by the killed verify"
echo "51-concurrency: ok"
