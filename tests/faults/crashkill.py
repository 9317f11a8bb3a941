#!/usr/bin/python3
"""crashkill.py - kills appending `ivl` processes with SIGKILL at random
moments and checks after every batch of kills that the ledger verifies, that
its sequence numbers are contiguous and that every acknowledged entry is in it.

Used by tests/shell/50-crash-kill.sh, which prepares the ledger:
    crashkill.py IVL LEDGER WORKDIR SME_USCC KEYS_PREFIX NKEYS
with auth.key in WORKDIR, budget B open with room for every issue, and
NKEYS unregistered keys WORKDIR/KEYS_PREFIX<i>.{key,pub} for `party add`.

Each round starts 4 writers at once (single issues, 3-row batch issues and
party registrations), sleeps a random time drawn from the measured length of
an unkilled round, then SIGKILLs whatever still runs. Writers that exit 0
are acknowledged: their printed ids must be in the ledger from then on.
A batch carries a unique amount, so the log must hold either all 3 of its
vouchers or none of them. Environment: KILLS (default 300; stop there), KILLS_MIN (default 200: fewer
within the time is a failure), SECONDS_MAX (default 40), SEED. Prints a summary line; exits 1 on the first failure.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

IVL, LED, WD, SME, KP, NKEYS = sys.argv[1:7]
NKEYS = int(NKEYS)
KILLS = int(os.environ.get("KILLS", "300"))
KILLS_MIN = int(os.environ.get("KILLS_MIN", "200"))
TMAX = float(os.environ.get("SECONDS_MAX", "40"))
SEED = int(os.environ.get("SEED", str(int(time.time()))))
random.seed(SEED)
CS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(n):
    body = "91140521MC%07d" % n
    c = 31 - sum(CS.index(ch) * w for ch, w in zip(body, W)) % 31
    return body + CS[0 if c == 31 else c]


def fail(msg):
    print("FAIL: %s (seed %d)" % (msg, SEED), file=sys.stderr)
    sys.exit(1)


def run(*args, timeout=30):
    p = subprocess.run([IVL, "-L", LED] + list(args), capture_output=True, text=True,
                       timeout=timeout, cwd=WD)
    return p.returncode, p.stdout, p.stderr


acked = {}          # id -> what
acked_batches = set()
batch_tags = []     # every batch amount ever tried
new_acks = []
next_key = 0
next_batch = 0
stats = {"started": 0, "killed": 0, "acked": 0, "failed_other": 0, "rounds": 0, "checks": 0}


def writer_cmd(kind):
    global next_key, next_batch
    if kind == "party" and next_key < NKEYS:
        i = next_key
        next_key += 1
        return ("party", i), ["party", "add", "--role", "sme", "--uscc", uscc(i), "--name",
                              "crash party %d" % i, "--pub", "%s%d.pub" % (KP, i),
                              "--key", "auth.key"]
    if kind == "batch":
        b = next_batch
        next_batch += 1
        amount = "%d.%02d" % (1 + b // 100, b % 100)
        path = os.path.join(WD, "batch%d.csv" % b)
        with open(path, "w") as f:
            f.write("uscc,amount,until\n" + ("%s,%s,\n" % (SME, amount)) * 3)
        batch_tags.append(amount)
        return ("batch", amount), ["issue", "--budget", "B", "--batch", path, "--key", "auth.key"]
    return ("issue", None), ["issue", "--budget", "B", "--to", SME, "--amount", "0.01",
                             "--key", "auth.key"]


def one_round(delay):
    procs = []
    for k in ("issue", "batch", "party", "issue"):
        what, args = writer_cmd(k)
        p = subprocess.Popen([IVL, "-L", LED, "--json"] + args, cwd=WD,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append((what, p))
        stats["started"] += 1
    if delay is not None:
        time.sleep(delay)
        for _, p in procs:
            try:
                p.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
    for what, p in procs:
        out, err = p.communicate(timeout=30)
        rc = p.returncode
        if rc == -signal.SIGKILL:
            stats["killed"] += 1
            continue
        if rc != 0:
            stats["failed_other"] += 1
            fail("%s exited %d: %s" % (what[0], rc, err.decode(errors="replace").strip()))
        d = json.loads(out)
        items = d if isinstance(d, list) else [d]
        for it in items:
            acked[it["id"]] = what
            new_acks.append(it["id"])
        stats["acked"] += 1
        if what[0] == "batch":
            if len(items) != 3:
                fail("batch printed %d entries" % len(items))
            acked_batches.add(what[1])


def check():
    stats["checks"] += 1
    rc, out, err = run("--json", "verify", timeout=60)
    if rc != 0:
        fail("ivl verify exited %d after %d kills: %s %s" % (rc, stats["killed"], out, err))
    if not json.loads(out).get("ok"):
        fail("verify ok is not true: %s" % out)
    rc, out, err = run("--json", "log")
    if rc != 0:
        fail("ivl log exited %d: %s" % (rc, err))
    log = json.loads(out)
    seqs = [e["seq"] for e in log]
    if seqs != list(range(len(log))):
        fail("sequence numbers are not contiguous: %s" % seqs)
    ids = [e["id"] for e in log]
    if len(set(ids)) != len(ids):
        fail("duplicate ids in the log")
    have = set(ids)
    missing = [i for i in acked if i not in have]
    if missing:
        fail("acknowledged entries lost: %s" % missing[:5])
    per_amount = {}
    for e in log:
        if e["type"] == "issue" and e["amount"] != "0.01":
            per_amount[e["amount"]] = per_amount.get(e["amount"], 0) + 1
    for tag in batch_tags:
        n = per_amount.get(tag, 0)
        if n not in (0, 3):
            fail("batch %s is half appended: %d of 3 entries" % (tag, n))
        if tag in acked_batches and n != 3:
            fail("acknowledged batch %s has %d entries" % (tag, n))
    # `ivl show` each id acknowledged since the last check (a few per batch)
    for i in new_acks[-6:]:
        rc, out, err = run("show", i)
        if rc != 0:
            fail("ivl show %s (acknowledged) exited %d: %s" % (i, rc, err))
    new_acks.clear()
    return len(log)


t0 = time.time()
# Calibrate: the length of a round nobody kills.
lens = []
for _ in range(3):
    s = time.time()
    one_round(None)
    lens.append(time.time() - s)
span = sorted(lens)[1]
check()
while stats["killed"] < KILLS and time.time() - t0 < TMAX:
    for _ in range(8):
        one_round(random.uniform(0, span * 0.9))
        stats["rounds"] += 1
    size = check()
# and a last clean round: the ledger still takes appends
one_round(None)
size = check()
print("crashkill: %d writers started, %d killed, %d acknowledged, %d rounds, %d checks, "
      "ledger size %d, round %.1f ms, %.1f s, seed %d"
      % (stats["started"], stats["killed"], stats["acked"], stats["rounds"], stats["checks"],
         size, span * 1000, time.time() - t0, SEED))
if stats["killed"] < KILLS_MIN:
    fail("only %d kills within %.0f s" % (stats["killed"], TMAX))
