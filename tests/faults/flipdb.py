#!/usr/bin/python3
"""flipdb.py IVL LEDGER_DIR WORKDIR TRIALS: flips random bytes of data.mdb in
fresh copies of LEDGER_DIR and runs `ivl verify`, `ivl status --json` and
`ivl log --json` on each (timeout 20 s). Exit 0 is allowed only when what
the command reports is the original (log and status equal the undamaged
ledger's; verify 0 only if the copy's log is the original log); otherwise the
exit must be 3 or 4: never a signal, never a hang, never another code.

The first trials are targeted at LMDB's meta pages (see TARGETED); then
where the bytes go: a third anywhere in the file, a third in the two meta
pages (the first 8 KiB with 4 KiB pages), a third in the last pages written.
Prints the outcome counts; exits 1 if any trial broke the rule, printing each
such trial with its offsets so it can be replayed by hand. SEED sets the
random seed (default: time).
"""
import json, os, random, shutil, subprocess, sys, time

IVL, LED, WD, TRIALS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# A fixed default keeps CI reproducible; SEED=$(date +%s) explores new damage.
SEED = int(os.environ.get("SEED", "20261127"))
rnd = random.Random(SEED)


def run(led, *args):
    try:
        p = subprocess.run([IVL, "-L", led] + list(args), capture_output=True, timeout=20,
                           env=dict(os.environ, TMPDIR=WD))
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "hang", b"", b""


def norm_status(out):
    d = json.loads(out)
    d.pop("ledger", None)
    return d


rc, orig_log, err = run(LED, "--json", "log")
assert rc == 0, err
rc, st, err = run(LED, "--json", "status")
assert rc == 0, err
orig_status = norm_status(st)
data = open(os.path.join(LED, "data.mdb"), "rb").read()
size = len(data)
# Targeted trials first: LMDB's two meta pages (page 0 and 1) carry no
# checksum; MDB_meta's txnid is at byte 144 of its page (after the 16-byte
# page header, magic, version, address, mapsize, two 48-byte MDB_db, last_pg),
# and the main DB's root page number at byte 16+24+48+40 = 128.
import struct
t0, t1 = struct.unpack_from("<Q", data, 144)[0], struct.unpack_from("<Q", data, 4096 + 144)[0]
older, newer = (0, 4096) if t0 < t1 else (4096, 0)
TARGETED = [
    ("older meta's txnid made the largest", [(older + 144 + 7, 0x01)]),
    ("older meta's txnid + 2", [(older + 144, (t0 if older == 0 else t1) ^ ((t0 if older == 0 else t1) + 2)
                                 if ((t0 if older == 0 else t1) ^ ((t0 if older == 0 else t1) + 2)) < 256 else 0x02)]),
    ("newer meta's magic", [(newer + 16, 0x01)]),
    ("newer meta's main root page", [(newer + 128, 0x01)]),
    ("both metas' magic", [(16, 0x01), (4096 + 16, 0x01)]),
]
# A damaged meta page can make LMDB open the previous commit: an earlier,
# self-consistent state of the same log, which no content check can tell from
# the real one (LMDB has no checksums). That is what an auditor's kept
# checkpoint is for: such a rollback is allowed here only if `ivl verify
# --from` the checkpoint taken before the damage refuses it.
rc, cp, err = run(LED, "checkpoint")
assert rc == 0, err
CP = os.path.join(WD, "kept.checkpoint")
with open(CP, "wb") as f:
    f.write(cp)


def rollback_caught(copy, s, l):
    if s[0] != 0 or l[0] != 0:
        return False
    try:
        a, c = json.loads(orig_log), json.loads(l[1])
    except ValueError:
        return False
    if not (len(c) < len(a) and a[:len(c)] == c):
        return False
    return run(copy, "verify", "--from", CP)[0] == 3


bad = []
counts = {}
t0 = time.time()
for trial in range(TRIALS):
    copy = os.path.join(WD, "flip%d" % trial)
    shutil.copytree(LED, copy)
    b = bytearray(data)
    offs = []
    if trial < len(TARGETED):
        for o, x in TARGETED[trial][1]:
            b[o] ^= x
            offs.append((o, x))
    else:
        where = trial % 3
        for _ in range(rnd.choice([1, 1, 2, 3, 8])):
            if where == 0:
                o = rnd.randrange(size)
            elif where == 1:
                o = rnd.randrange(min(8192, size))
            else:
                o = rnd.randrange(max(0, size - 16 * 4096), size)
            x = rnd.randrange(1, 256)
            b[o] ^= x
            offs.append((o, x))
    with open(os.path.join(copy, "data.mdb"), "wb") as f:
        f.write(b)
    v = run(copy, "verify")
    s = run(copy, "--json", "status")
    l = run(copy, "--json", "log")
    problems = []
    for name, (rc, out, err) in (("verify", v), ("status", s), ("log", l)):
        if rc == "hang":
            problems.append("%s hung (20 s)" % name)
        elif rc not in (0, 3, 4):
            problems.append("%s exit %s: %s" % (name, rc, err.decode(errors="replace").strip()[:200]))
        elif rc != 0 and not err.decode(errors="replace").startswith(("ivl: ", '{"error":')):
            problems.append("%s exit %s without an 'ivl:' message: %r" % (name, rc, err[:200]))
    if s[0] == 0:
        try:
            if norm_status(s[1]) != orig_status:
                problems.append("status exit 0 but reports another ledger: %s"
                                % s[1].decode(errors="replace").replace("\n", " ")[:300])
        except ValueError:
            problems.append("status exit 0 with unparsable output")
    if l[0] == 0 and l[1] != orig_log:
        try:
            a, c = json.loads(orig_log), json.loads(l[1])
            diff = [(x.get("seq"), k) for x, y in zip(a, c) if x != y for k in x if x.get(k) != y.get(k)]
            what = "%d vs %d entries, changed (seq, field): %s" % (len(a), len(c), diff[:4])
        except ValueError:
            what = "unparsable"
        problems.append("log exit 0 but lists other entries (%s)" % what)
    if v[0] == 0 and l[1] != orig_log:
        problems.append("verify exit 0 but the log is not the original (log exit %s)" % l[0])
    if problems and rollback_caught(copy, s, l):
        problems = []
        counts["rollback to an earlier commit, refused by verify --from the kept checkpoint"] = \
            counts.get("rollback to an earlier commit, refused by verify --from the kept checkpoint", 0) + 1
    key = "verify %s, status %s, log %s" % (v[0], s[0], l[0])
    counts[key] = counts.get(key, 0) + 1
    if problems:
        bad.append(("%d%s" % (trial, " (%s)" % TARGETED[trial][0] if trial < len(TARGETED) else ""),
                    offs, problems))
    shutil.rmtree(copy)

for k in sorted(counts, key=lambda k: -counts[k]):
    print("   %4d trials: %s" % (counts[k], k))
print("flipdb: %d trials on a %d-byte data.mdb in %.1f s, %d broke the rule (seed %d)"
      % (TRIALS, size, time.time() - t0, len(bad), SEED))
for trial, offs, problems in bad:
    print("FAIL: trial %s, (offset, xor) %s: %s" % (trial, offs, "; ".join(problems)))
sys.exit(1 if bad else 0)
