#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# A long seeded random sequence of issue / redeem (one step and through
# request files) / cancel / claim / approve / reject / pay / revoke /
# clawback / expire, with deliberately bad parameters mixed in, checked
# against an independent model in integer fen: every refusal must be the one
# the model predicts (exit code and error code), every acceptance must be
# predicted, and after each phase `ivl --json budget show` and
# `ivl --json balance` must equal the model. `ivl verify` at the end.
# IVL_SEED=N and IVL_OPS=N change the seed and the length.
set -eu
. "$(dirname "$0")/rules-lib.sh"

genesis
SMES="" PROVS=""
for i in 0 1 2 3 4 5; do
    u=$(un $((i + 1)))
    case $i in
    0 | 1) party sme "s$i" "$u" --group G ;;
    2) party sme "s$i" "$u" --related "$(un 31)" ;;
    3) party sme "s$i" "$u" --group H ;;
    *) party sme "s$i" "$u" ;;
    esac
    SMES="$SMES s$i:$u"
done
for i in 0 1 2; do
    u=$(un $((i + 31)))
    case $i in
    2) party provider "p$i" "$u" --categories rd,testing ;;
    *) party provider "p$i" "$u" ;;
    esac
    PROVS="$PROVS p$i:$u"
done
budget B1 5000 1500 50 2026-12-31
budget B2 3000 800 33.33 2026-12-31 --categories rd,testing,ip

"$PY" - "$IVL" "$L" "$W" "${IVL_SEED:-20260301}" "${IVL_OPS:-420}" "$SMES" "$PROVS" <<'EOF'
import datetime as dt
import json
import os
import random
import subprocess
import sys

ivl, led, w, seed, nops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
smes = dict(x.split(":") for x in sys.argv[6].split())   # name -> uscc
provs = dict(x.split(":") for x in sys.argv[7].split())
rnd = random.Random(seed)
CST = dt.timezone(dt.timedelta(hours=8))
now = dt.datetime(2026, 3, 1, 9, 0, 0, tzinfo=CST)
CATS = ["rd", "testing", "ip", "consulting", "transfer", "instruments"]

def ts(t):
    return int(t.timestamp())

def end_of_day(d):
    return ts(dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=CST))

def amt(f):
    return "%d.%02d" % (f // 100, f % 100)

def fen(s):
    a, b = s.split(".")
    return int(a) * 100 + int(b)

# ---- the model ----
group = {"s0": "G", "s1": "G", "s3": "H"}
related = {"s2": {"p0"}}
pcats = {"p2": {"rd", "testing"}}
budgets = {
    "B1": dict(total=500000, cap=150000, ratio=5000, cats=set(), until=end_of_day(dt.date(2026, 12, 31))),
    "B2": dict(total=300000, cap=80000, ratio=3333, cats={"rd", "testing", "ip"},
               until=end_of_day(dt.date(2026, 12, 31))),
}
for b in budgets.values():
    b.update(issued=0, released=0, redeemed=0, claimed=0, paid=0, clawed_back=0, capused={})
vouchers = {}      # id -> dict
redemptions = {}   # id -> dict
claims = {}        # id -> dict
contracts = {}     # name -> dict(sme, camount, redeemed)
uscc_name = {u: n for n, u in list(smes.items()) + list(provs.items())}
log = []
stats = {}

class Refused(Exception):
    def __init__(self, code, exitc=1):
        self.code, self.exitc = code, exitc

def holder_key(sme):
    return "g:" + group[sme] if sme in group else "s:" + sme

def release(v, a):
    b = budgets[v["budget"]]
    b["released"] += a
    v["released"] += a
    hk = holder_key(v["holder"])
    b["capused"][hk] -= a
    assert b["capused"][hk] >= 0

# ---- running ivl ----
def run(args, expect, what):
    """Runs `ivl --json ARGS`; expect is None (success) or (exit, code)."""
    env = dict(os.environ, IVL_NOW=now.isoformat())
    p = subprocess.run([ivl, "-L", led, "--json"] + args, capture_output=True, text=True, env=env)
    got = None
    if p.returncode != 0:
        code = "NONE"
        for line in p.stderr.splitlines():
            if line.startswith("{"):
                code = json.loads(line)["error"]["code"]
        got = (p.returncode, code)
    log.append("%s %s -> %s" % (now.isoformat(), " ".join(args), got or "ok"))
    if got != expect:
        sys.stderr.write("\n".join(log[-15:]) + "\n")
        sys.stderr.write("MISMATCH (seed %d) on %s: model expects %s, ivl gave %s\nstderr: %s\n"
                         % (seed, what, expect or "success", got or "success", p.stderr))
        sys.exit(1)
    key = what + (":" + expect[1] if expect else ":ok")
    stats[key] = stats.get(key, 0) + 1
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip().startswith(("{", "[")) else None

def attempt(what, args, predict, apply, out_id=False):
    """predict() raises Refused or returns; apply(result) updates the model."""
    try:
        predict()
        expect = None
    except Refused as r:
        expect = (r.exitc, r.code)
    res = run(args, expect, what)
    if expect is None:
        apply(res)
    return res

def key(name):
    return os.path.join(w, name + ".key")

FAKE = "12345678-1234-4234-8234-123456789abc"

# ---- operations ----
def op_issue():
    bname = rnd.choice(list(budgets))
    b = budgets[bname]
    sme = rnd.choice(list(smes))
    outstanding = b["issued"] - b["released"]
    room = min(b["total"] - outstanding, b["cap"] - b["capused"].get(holder_key(sme), 0))
    r = rnd.random()
    if r < 0.15 and room > 0:
        a = room                       # exactly the room left
    elif r < 0.25:
        a = room + 1                   # one fen too many
    elif r < 0.28:
        a = 0
    else:
        a = rnd.randint(1, 60000)
    until = None
    args = ["issue", "--budget", bname, "--to", smes[sme], "--amount", amt(a)]
    u = rnd.random()
    if u < 0.35:
        d = now.date() + dt.timedelta(days=rnd.randint(0, 3))
        until = end_of_day(d)
        args += ["--until", d.isoformat()]
    elif u < 0.38:
        d = now.date() - dt.timedelta(days=1)
        until = end_of_day(d)
        args += ["--until", d.isoformat()]
    wrongkey = rnd.random() < 0.03
    args += ["--key", key("fin" if wrongkey else "auth")]
    vuntil = until if until is not None else b["until"]

    def predict():
        if wrongkey:
            raise Refused("key_not_valid", 5)
        if ts(now) > b["until"]:
            raise Refused("budget_closed")
        if a == 0:
            raise Refused("zero_amount")
        if a > b["total"] - (b["issued"] - b["released"]):
            raise Refused("over_budget")
        if b["capused"].get(holder_key(sme), 0) + a > b["cap"]:
            raise Refused("over_cap")
        if vuntil > b["until"]:
            raise Refused("voucher_outlives_budget")
        # (a past expiry is no refusal of its own: the voucher is born expired)

    def apply(res):
        vouchers[res["id"]] = dict(id=res["id"], budget=bname, holder=sme, face=a, remaining=a,
                                   released=0, status="active", until=vuntil)
        b["issued"] += a
        hk = holder_key(sme)
        b["capused"][hk] = b["capused"].get(hk, 0) + a
    attempt("issue", args, predict, apply)

def pick(d, fake_p=0.05, good=None, good_p=0.75):
    """A random key of d; with probability good_p one satisfying good(); rarely a fake id."""
    if not d or rnd.random() < fake_p:
        return FAKE
    if good and rnd.random() < good_p:
        g = [k for k, x in d.items() if good(x)]
        if g:
            return rnd.choice(g)
    return rnd.choice(list(d))

def op_redeem():
    vid = pick(vouchers, 0.04, lambda v: v["status"] == "active" and v["remaining"] > 0, 0.85)
    late = [i for i, x in vouchers.items() if x["until"] < ts(now)]
    if late and rnd.random() < 0.08:
        vid = rnd.choice(late)  # past its expiry, expired or not yet
    v = vouchers.get(vid)
    if v and rnd.random() < 0.9:
        sme = v["holder"]
    else:
        sme = rnd.choice(list(smes))
    prov = rnd.choice(list(provs))
    # contract: new, or one already used (mostly by the same SME)
    mine = [c for c, x in contracts.items() if x["sme"] == sme]
    r = rnd.random()
    if mine and r < 0.35:
        cname = rnd.choice(mine)
    elif contracts and r < 0.42:
        cname = rnd.choice(list(contracts))
    else:
        cname = "k%d" % len(os.listdir(os.path.join(w, "contracts")))
        with open(os.path.join(w, "contracts", cname), "w") as f:
            f.write("contract %s\n" % cname)
    c = contracts.get(cname)
    camount = c["camount"] if c and rnd.random() < 0.93 else rnd.randint(1, 200000)
    if rnd.random() < 0.02:
        camount = 0
    b = budgets[v["budget"]] if v else budgets["B1"]
    limit = camount * b["ratio"] // 10000
    left_ratio = limit - (c["redeemed"] if c else 0)
    rem = v["remaining"] if v else 1000
    r = rnd.random()
    if r < 0.12:
        a = rem
    elif r < 0.2:
        a = rem + 1
    elif r < 0.3:
        a = max(left_ratio, 0)
    elif r < 0.36:
        a = max(left_ratio, 0) + 1
    elif r < 0.38:
        a = 0
    else:
        a = rnd.randint(1, max(1, min(rem, 30000)))
    cat = None
    r = rnd.random()
    if r < 0.6:
        cat = rnd.choice(["rd", "testing", "ip"])
    elif r < 0.7:
        cat = rnd.choice(CATS)
    args = ["--voucher", vid, "--provider", provs[prov], "--contract",
            os.path.join(w, "contracts", cname), "--contract-amount", amt(camount),
            "--amount", amt(a)] + (["--category", cat] if cat else []) + ["--key", key(sme)]

    def predict():
        if not v:
            raise Refused("unknown_voucher")
        if v["holder"] != sme:
            raise Refused("not_holder")
        if v["status"] == "revoked":
            raise Refused("voucher_revoked")
        if v["status"] == "expired" or ts(now) > v["until"]:
            raise Refused("voucher_expired")
        if prov in related.get(sme, ()):
            raise Refused("related_party")
        bl, pl = b["cats"], pcats.get(prov, set())
        if bl or pl:
            if not cat or (bl and cat not in bl) or (pl and cat not in pl):
                raise Refused("category_not_allowed")
        if a == 0 or camount == 0:
            raise Refused("zero_amount")
        if a > v["remaining"]:
            raise Refused("over_balance")
        if c and c["sme"] != sme:
            raise Refused("contract_reused")
        if c and c["camount"] != camount:
            raise Refused("contract_amount_mismatch")
        if (c["redeemed"] if c else 0) + a > limit:
            raise Refused("over_ratio")

    def apply(res):
        rid = res["id"]
        redemptions[rid] = dict(id=rid, voucher=vid, sme=sme, prov=prov, amount=a, contract=cname,
                                status="active", claim=None)
        v["remaining"] -= a
        b["redeemed"] += a
        cc = contracts.setdefault(cname, dict(sme=sme, camount=camount, redeemed=0))
        cc["redeemed"] += a

    if rnd.random() < 0.12:
        # across machines: request file, countersignature, submission
        req = os.path.join(w, "req-%d" % len(log))
        res = run(["redeem"] + args + ["--out", req], None, "redeem-out")
        run(["cosign", req, "--key", key(prov)], None, "cosign")
        res = attempt("submit", ["submit", req], predict, apply)
        if res is not None and rnd.random() < 0.5:
            run(["submit", req], (1, "duplicate_id"), "replay")
    else:
        attempt("redeem", ["redeem"] + args + ["--cosign", key(prov)], predict, apply)

def op_cancel():
    rid = pick(redemptions, good=lambda r: r["status"] == "active" and not r["claim"], good_p=0.5)
    r = redemptions.get(rid)
    wrongkey = rnd.random() < 0.03

    def predict():
        if wrongkey:
            raise Refused("key_not_valid", 5)
        if not r:
            raise Refused("unknown_redemption")
        if r["status"] == "cancelled":
            raise Refused("redemption_cancelled")
        if r["claim"]:
            raise Refused("redemption_claimed")

    def apply(res):
        v = vouchers[r["voucher"]]
        b = budgets[v["budget"]]
        r["status"] = "cancelled"
        contracts[r["contract"]]["redeemed"] -= r["amount"]
        b["redeemed"] -= r["amount"]
        if v["status"] == "active":
            v["remaining"] += r["amount"]
        else:
            release(v, r["amount"])
    attempt("cancel", ["cancel", rid, "--reason", "called off",
                       "--key", key("s0" if wrongkey else "auth")], predict, apply)

def op_claim():
    rid = pick(redemptions, good=lambda r: r["status"] == "active" and not r["claim"])
    r = redemptions.get(rid)
    prov = r["prov"] if r and rnd.random() < 0.85 else rnd.choice(list(provs))
    inv = os.path.join(w, "contracts", "invoice")

    def predict():
        if not r:
            raise Refused("unknown_redemption")
        if r["status"] == "cancelled":
            raise Refused("redemption_cancelled")
        if r["prov"] != prov:
            raise Refused("wrong_provider")
        if r["claim"]:
            raise Refused("redemption_claimed")

    def apply(res):
        cid = res["id"]
        v = vouchers[r["voucher"]]
        claims[cid] = dict(id=cid, red=rid, amount=r["amount"], status="pending", budget=v["budget"])
        r["claim"] = cid
        budgets[v["budget"]]["claimed"] += r["amount"]
    attempt("claim", ["claim", "--redemption", rid, "--invoice", inv, "--key", key(prov)],
            predict, apply)

def claim_op(kind, want, signer, extra, change):
    def op():
        cid = pick(claims, good=lambda c: c["status"] == want)
        c = claims.get(cid)
        wrongkey = rnd.random() < 0.03

        def predict():
            if wrongkey:
                raise Refused("key_not_valid", 5)
            if not c:
                raise Refused("unknown_claim")
            if c["status"] != want:
                raise Refused("claim_state")

        def apply(res):
            change(c, budgets[c["budget"]])
        k = "p0" if wrongkey else signer
        attempt(kind, [kind, cid] + extra + ["--key", key(k)], predict, apply)
    return op

def ch_approve(c, b):
    c["status"] = "approved"

def ch_reject(c, b):
    c["status"] = "rejected"
    b["claimed"] -= c["amount"]

def ch_pay(c, b):
    c["status"] = "paid"
    b["paid"] += c["amount"]

def ch_claw(c, b):
    c["status"] = "clawed_back"
    b["clawed_back"] += c["amount"]

def op_revoke():
    vid = pick(vouchers, good=lambda v: v["status"] != "revoked", good_p=0.9)
    v = vouchers.get(vid)

    def predict():
        if not v:
            raise Refused("unknown_voucher")
        if v["status"] == "revoked":
            raise Refused("already_revoked")

    def apply(res):
        a = v["remaining"]
        v["remaining"] = 0
        v["status"] = "revoked"
        if a:
            release(v, a)
    attempt("revoke", ["revoke", vid, "--reason", "withdrawn", "--key", key("auth")], predict, apply)

def op_expire():
    due = sorted(i for i, v in vouchers.items()
                 if v["status"] == "active" and v["until"] < ts(now) and v["remaining"] > 0)

    def predict():
        if not due:
            raise Refused("nothing_to_expire")

    def apply(res):
        shown = run(["show", str(res["seq"])], None, "show-expire")
        listed = [(x["voucher"], fen(x["amount"])) for x in shown["vouchers"]]
        want = [(i, vouchers[i]["remaining"]) for i in due]
        if listed != want:
            sys.stderr.write("MISMATCH (seed %d): expire listed %s, model %s\n" % (seed, listed, want))
            sys.exit(1)
        for i in due:
            v = vouchers[i]
            a = v["remaining"]
            v["remaining"] = 0
            v["status"] = "expired"
            release(v, a)
    attempt("expire", ["expire", "--key", key("auth")], predict, apply)

OPS = [(op_issue, 14), (op_redeem, 30), (op_cancel, 6), (op_claim, 14),
       (claim_op("approve", "pending", "auth", [], ch_approve), 9),
       (claim_op("reject", "pending", "auth", ["--reason", "no"], ch_reject), 3),
       (claim_op("pay", "approved", "fin", ["--ref", "BANK"], ch_pay), 8),
       (claim_op("clawback", "paid", "auth", ["--reason", "recover"], ch_claw), 2),
       (op_revoke, 2), (op_expire, 2)]
weights = [x[1] for x in OPS]

# ---- comparing with ivl ----
def compare(phase):
    for name, b in budgets.items():
        got = run(["budget", "show", name], None, "check")
        want = dict(total=b["total"], issued=b["issued"], released=b["released"],
                    redeemed=b["redeemed"], claimed=b["claimed"], paid=b["paid"],
                    clawed_back=b["clawed_back"],
                    available=b["total"] - b["issued"] + b["released"])
        for k, x in want.items():
            if fen(got[k]) != x:
                sys.stderr.write("\n".join(log[-10:]) + "\n")
                sys.stderr.write("MISMATCH (seed %d, phase %d): budget %s %s: ivl %s, model %s\n"
                                 % (seed, phase, name, k, got[k], amt(x)))
                sys.exit(1)
    for name, u in smes.items():
        got = run(["balance", u], None, "check")
        mine = {i: v for i, v in vouchers.items() if v["holder"] == name}
        def shown(v):
            if v["status"] == "active" and ts(now) > v["until"]:
                return "expired"
            return v["status"]
        total = sum(v["remaining"] for v in mine.values() if shown(v) == "active")
        gv = {x["id"]: x for x in got["vouchers"]}
        problems = []
        if fen(got["total_remaining"]) != total:
            problems.append("total_remaining ivl %s model %s" % (got["total_remaining"], amt(total)))
        if set(gv) != set(mine):
            problems.append("voucher sets differ")
        for i, v in mine.items():
            x = gv.get(i)
            if x and (fen(x["remaining"]) != v["remaining"] or x["status"] != shown(v)
                      or fen(x["face"]) != v["face"] or x["budget"] != v["budget"]):
                problems.append("voucher %s: ivl %s/%s model %s/%s" % (
                    i, x["remaining"], x["status"], amt(v["remaining"]), shown(v)))
        if problems:
            sys.stderr.write("MISMATCH (seed %d, phase %d) balance of %s: %s\n"
                             % (seed, phase, name, "; ".join(problems)))
            sys.exit(1)

os.makedirs(os.path.join(w, "contracts"), exist_ok=True)
with open(os.path.join(w, "contracts", "invoice"), "w") as f:
    f.write("invoice\n")

phase = 0
for i in range(nops):
    rnd.choices(OPS, weights)[0][0]()
    now += dt.timedelta(minutes=rnd.randint(1, 25))
    if (i + 1) % 30 == 0:
        phase += 1
        compare(phase)
compare(phase + 1)

# every claim's and redemption's status as the model has it
for cid, c in claims.items():
    got = run(["show", cid], None, "check")
    assert got["status"] == c["status"], (cid, got["status"], c["status"])
    assert fen(got["amount"]) == c["amount"]
for rid, r in redemptions.items():
    got = run(["show", rid], None, "check")
    assert got["status"] == r["status"], (rid, got["status"], r["status"])
    assert (got["claim"] or None) == r["claim"], (rid, got["claim"], r["claim"])

refused = sum(n for k, n in stats.items() if not k.endswith(":ok") and not k.startswith("check"))
accepted = sum(n for k, n in stats.items() if k.endswith(":ok") and not k.startswith("check")
               and not k.startswith("show"))
print("seed %d: %d operations, %d accepted, %d refused as predicted, %d vouchers, %d redemptions, %d claims"
      % (seed, nops, accepted, refused, len(vouchers), len(redemptions), len(claims)))
for k in sorted(stats):
    if not k.startswith("check"):
        print("  %-40s %d" % (k, stats[k]))
# the default run must have exercised the interesting paths
need = ["issue:ok", "issue:over_cap", "issue:over_budget", "redeem:ok", "redeem:over_balance",
        "redeem:over_ratio", "redeem:voucher_expired", "cancel:ok", "claim:ok", "approve:ok",
        "pay:ok", "reject:ok", "clawback:ok", "revoke:ok", "expire:ok", "submit:ok",
        "replay:duplicate_id"]
missing = [k for k in need if k not in stats]
if missing:
    sys.stderr.write("the random run did not exercise %s (seed %d)\n" % (missing, seed))
    if seed == 20260301:  # the default run must; other seeds only warn
        sys.exit(1)
EOF

verify_ok
echo "27-random-model: ok"
