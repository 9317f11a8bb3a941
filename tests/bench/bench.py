#!/usr/bin/python3
"""ivl performance benchmark (run it with `make bench`; see docs/PERFORMANCE.md).

In one run:
 1. measures the raw limits of this machine (tests/bench/bench_raw.c):
    libsodium Ed25519 sign/s and verify/s on 1 thread and on every core,
    one durable LMDB commit, LMDB batched puts/s;
 2. builds a realistic ledger of --entries entries through the real `ivl`
    binary (`ivl party add --batch`, `ivl budget open`, `ivl issue --batch`)
    plus the redemption traffic (redeem with two signatures, claim, approve,
    pay) signed with the parties' keys and appended through libivl in
    batches by tests/bench/bench_gen.c;
 3. measures ivl against those limits and prints a table and JSON
    (DIR/bench.json and stdout).

Every process is started with posix_spawn and reaped with wait4, so wall
times include exec and the peak RSS is that of the child alone.
"""
import argparse
import datetime
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

NOW = "2026-03-01T09:00:00+08:00"
ORIGIN = "bench.qinshui.example/ivl/2026"
AUTH_USCC = "11140521MB12345677"
BUDGET = "B2026-S&T"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, ivl, ledger, cwd):
        self.ivl = ivl
        self.ledger = ledger
        self.cwd = cwd
        # the auditor's verification cache lives in the work directory
        self.env = dict(os.environ, IVL_NOW=NOW, XDG_CACHE_HOME=os.path.join(cwd, "cache"))
        self.env.pop("IVL_LEDGER", None)

    def spawn(self, argv, stdout=None, check=True, env=None):
        """Runs argv; returns (wall seconds, exit code, peak RSS KiB, stdout text)."""
        out_path = stdout or os.devnull
        fa = [(os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
              (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        old = os.getcwd()
        os.chdir(self.cwd)
        try:
            t0 = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, env or self.env, file_actions=fa)
            _, status, ru = os.wait4(pid, 0)
            wall = time.perf_counter() - t0
        finally:
            os.chdir(old)
        rc = os.waitstatus_to_exitcode(status)
        self.last_cpu = ru.ru_utime + ru.ru_stime  # CPU seconds of the child, all threads
        text = None
        if stdout:
            with open(stdout, encoding="utf-8", errors="replace") as f:
                text = f.read()
        if check and rc != 0:
            raise SystemExit("bench: %s exited %d (%s)" % (" ".join(argv), rc, text or ""))
        return wall, rc, ru.ru_maxrss, text

    def ivl_cmd(self, *args, json_out=False, stdout=None, check=True, env=None):
        argv = [self.ivl, "-L", self.ledger] + (["--json"] if json_out else []) + list(args)
        return self.spawn(argv, stdout=stdout, check=check, env=env)


def median_ms(xs):
    return statistics.median(xs) * 1000.0


def mdb_stat_bytes(ledger):
    """Bytes in pages in use (all named databases + the main and free DBs), from mdb_stat."""
    exe = shutil.which("mdb_stat")
    if not exe:
        return None, None
    out = subprocess.run([exe, "-e", "-f", "-a", ledger], capture_output=True, text=True).stdout
    psize = int(re.search(r"Page size: (\d+)", out).group(1))
    last = int(re.search(r"Number of pages used: (\d+)", out).group(1))
    free = int(re.search(r"Free pages: (\d+)", out).group(1))
    per_db = {}
    for m in re.finditer(r'Status of (\S+)\n(.*?)(?=\nStatus of |\Z)', out, re.S):
        body = m.group(2)
        pages = sum(int(x) for x in re.findall(r"(?:Branch|Leaf|Overflow) pages: (\d+)", body))
        ent = re.search(r"Entries: (\d+)", body)
        per_db[m.group(1)] = {"pages": pages, "bytes": pages * psize,
                              "entries": int(ent.group(1)) if ent else 0}
    return {"page_size": psize, "pages_used": last, "free_pages": free,
            "bytes_in_use": (last - free) * psize, "tables": per_db}, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ivl", required=True)
    ap.add_argument("--tools", required=True, help="directory with bench_gen and bench_raw")
    ap.add_argument("--dir", required=True, help="work directory (replaced)")
    ap.add_argument("--entries", type=int, default=100000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--issue-batch", type=int, default=5000)
    ap.add_argument("--flow-batch", type=int, default=2000)
    ap.add_argument("--party-batch", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=50, help="runs of the small commands")
    ap.add_argument("--raw-seconds", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=0,
                    help="runs of verify and import, each between two probes of libsodium's rate; "
                         "the median ratio is reported (default 3, 1 above 200,000 entries)")
    ap.add_argument("--keep", action="store_true", help="keep the ledger and export")
    ap.add_argument("--profile", action="store_true",
                    help="also record perf profiles of verify and of one issue batch")
    a = ap.parse_args()

    N = a.entries
    jobs = a.jobs
    gen = os.path.join(a.tools, "bench_gen")
    raw = os.path.join(a.tools, "bench_raw")
    shutil.rmtree(a.dir, ignore_errors=True)
    work = os.path.join(a.dir, "work")
    ledger = os.path.join(work, "ledger")
    keys = os.path.join(work, "keys")
    os.makedirs(keys)
    r = Runner(a.ivl, ledger, keys)
    res = {"entries_target": N, "jobs": jobs, "cores": os.cpu_count(),
           "loadavg_start": os.getloadavg()[0],
           "ivl_version": subprocess.run([a.ivl, "--version"], capture_output=True, text=True).stdout.strip(),
           "date": datetime.datetime.now().isoformat(timespec="seconds")}
    t_start = time.perf_counter()

    # ---- 1. raw limits ----
    log("raw limits: Ed25519 and LMDB (%d threads)..." % jobs)
    _, _, _, out = r.spawn([raw, os.path.join(work, "raw"), str(jobs), str(a.raw_seconds), "160", "190"],
                           stdout=os.path.join(work, "raw.json"))
    rawr = json.loads(out)
    res["raw"] = rawr

    repeats = a.repeats or (3 if N <= 200000 else 1)

    def probe(kind, threads, secs):
        """libsodium's sign or verify rate on `threads` threads, measured now."""
        _, _, _, o = r.spawn([raw, "probe", kind, str(threads), str(secs), "160"],
                             stdout=os.path.join(work, "probe.json"))
        return json.loads(o)["rate"]

    def paired(kind, threads, secs, fn):
        """fn() between two probes of the rate it is compared with: the machine's
        speed moves by 10-30 % within seconds here, so each ivl figure gets the
        higher of the rates measured just before and just after it."""
        p0 = probe(kind, threads, secs)
        x = fn()
        p1 = probe(kind, threads, secs)
        return x, max(p0, p1)

    def median_run(runs, rate):
        """The run of the median ratio (the lower middle one of an even count)."""
        runs = sorted(runs, key=lambda xl: rate(xl[0]) / xl[1])
        x, lim = runs[(len(runs) - 1) // 2]
        x["limit"] = lim
        x["ratio"] = rate(x) / lim
        x["ratios"] = [rate(y) / l for y, l in runs]
        return x

    # ---- 2. the ledger ----
    nsme = max(1000, min(30000, N // 30))
    nprov = max(20, nsme // 15)
    nparties = nsme + nprov + 2
    n_issue = int(N * 0.30)
    fixed = 1 + nparties + 1  # genesis, parties, budget
    cycles = max(0, (N - fixed - n_issue) // 4)
    log("ledger: %d SMEs, %d providers, %d vouchers, %d redeem/claim/approve/pay cycles"
        % (nsme, nprov, n_issue, cycles))
    r.spawn([a.ivl, "keygen", "auth", "--unencrypted"])
    auth = os.path.join(keys, "auth.key")
    r.ivl_cmd("init", "--origin", ORIGIN, "--key", auth, "--uscc", AUTH_USCC,
              "--name", "Qinshui County Education (S&T) Bureau")

    parties_csv = os.path.join(work, "parties.csv")
    r.spawn([gen, "parties", parties_csv, str(nsme), str(nprov)])
    with open(parties_csv, encoding="utf-8", newline="") as f:
        lines = f.read().split("\r\n")
    header, rows = lines[0], [x for x in lines[1:] if x]
    t_party = 0.0
    for i in range(0, len(rows), a.party_batch):
        p = os.path.join(work, "parties-%d.csv" % i)
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write("\r\n".join([header] + rows[i:i + a.party_batch]) + "\r\n")
        w, _, _, _ = r.ivl_cmd("party", "add", "--batch", p, "--key", auth)
        t_party += w
        os.unlink(p)
    res["party_batch"] = {"parties": len(rows), "seconds": t_party, "per_s": len(rows) / t_party}

    r.ivl_cmd("budget", "open", BUDGET, "--total", "900000000", "--cap", "900000000",
              "--ratio", "50", "--until", "2026-12-31", "--key", auth)

    t_issue, issued, issue_rss, issue_cpu, batches = 0.0, 0, 0, 0.0, []
    issue_csv = os.path.join(work, "issue.csv")
    while issued < n_issue:
        k = min(a.issue_batch, n_issue - issued)
        r.spawn([gen, "issues", issue_csv, str(nsme), str(issued), str(k), "1000"])
        def one_batch():
            w, _, rss, _ = r.ivl_cmd("issue", "--budget", BUDGET, "--batch", issue_csv, "--key", auth)
            return w, rss, r.last_cpu

        (w, rss, cpu), lim = paired("sign", jobs, 0.3, one_batch)
        batches.append(({"entries": k, "seconds": w, "per_s": k / w, "cpu_s": cpu}, lim))
        t_issue += w
        issue_cpu += cpu
        issue_rss = max(issue_rss, rss)
        issued += k
        log("  issued %d/%d (%.0f/s)" % (issued, n_issue, issued / t_issue))
    mb = median_run(batches, lambda b: b["per_s"])
    res["issue_batch"] = {"entries": issued, "batch": a.issue_batch, "seconds": t_issue,
                          "per_s": issued / t_issue, "peak_rss_kib": issue_rss, "cpu_s": issue_cpu,
                          "cpu_efficiency": issued / issue_cpu / rawr["ed25519_sign_per_cpu_s_all"],
                          "median_batch": mb}

    now_unix = int(datetime.datetime.fromisoformat(NOW).timestamp())
    log("  redemption traffic: %d entries through libivl..." % (4 * cycles))
    _, _, _, out = r.spawn([gen, "flow", ledger, auth, str(nsme), str(nprov), str(cycles),
                            str(a.flow_batch), str(now_unix), str(jobs)],
                           stdout=os.path.join(work, "flow.json"))
    res["flow"] = json.loads(out)
    res["build_seconds"] = time.perf_counter() - t_start

    # ---- 3. ivl against the limits ----
    _, _, _, st = r.ivl_cmd("status", json_out=True, stdout=os.path.join(work, "status.json"))
    status = json.loads(st)
    size = status["size"]
    res["size"] = size

    def verify(*extra, per_cpu="ed25519_verify_per_cpu_s_all", env=None):
        w, _, rss, o = r.ivl_cmd("verify", *extra, json_out=True, stdout=os.path.join(work, "verify.json"),
                                 env=env)
        v = json.loads(o)
        if not v.get("ok"):
            raise SystemExit("bench: verify failed: %s" % o)
        cpu = r.last_cpu
        return {"wall_s": w, "seconds": v.get("seconds"), "cpu_s": cpu, "signatures": v["signatures"],
                "entries": v["entries"], "sig_per_s": v["signatures"] / w,
                "sig_per_cpu_s": v["signatures"] / cpu, "entries_per_s": v["entries"] / w,
                "cpu_efficiency": v["signatures"] / cpu / rawr[per_cpu],
                "peak_rss_kib": rss, "replayed": v.get("replayed"),
                "replayed_from": (v.get("cache") or {}).get("replayed_from")}

    def verify_runs(j, env=None, n=None, what=""):
        n = n or repeats
        log("verify --jobs %d%s (%d run%s) ..." % (j, what, n, "s" if n > 1 else ""))
        runs = []
        for _ in range(n):
            x = paired("verify", j, 0.5, lambda: verify(
                "--jobs", str(j), per_cpu="ed25519_verify_per_cpu_s" if j == 1 else "ed25519_verify_per_cpu_s_all",
                env=env))
            log("  %.1f s, %.0f sig/s, %.3f of %.0f/s" % (x[0]["wall_s"], x[0]["sig_per_s"],
                                                        x[0]["sig_per_s"] / x[1], x[1]))
            runs.append(x)
        return median_run(runs, lambda v: v["sig_per_s"])

    v1 = verify_runs(1)
    vn = verify_runs(jobs)
    # The same with every signature left to libsodium (no key tables): how
    # much of the rate is the tables' (docs/PERFORMANCE.md).
    vr = verify_runs(jobs, env=dict(r.env, IVL_NO_KEY_TABLES="1"), n=1, what=", libsodium only")
    res["verify_1"], res["verify_all"], res["verify_all_libsodium_only"] = v1, vn, vr

    log("export / import ...")
    exp = os.path.join(work, "export.jsonl")
    w_exp, _, _, _ = r.ivl_cmd("export", "--out", exp)
    replica = os.path.join(work, "replica")

    def import_once():
        shutil.rmtree(replica, ignore_errors=True)
        w_imp, rc_imp, rss_imp, _ = r.spawn([a.ivl, "-L", replica, "import", exp], check=False)
        cpu_imp = r.last_cpu
        if rc_imp:
            log("  import FAILED with exit %d (see the message above)" % rc_imp)
        return {"seconds": w_imp, "exit": rc_imp, "peak_rss_kib": rss_imp,
                "entries_per_s": size / w_imp if rc_imp == 0 else None,
                "sig_per_s": vn["signatures"] / w_imp if rc_imp == 0 else 0, "cpu_s": cpu_imp,
                "cpu_efficiency": vn["signatures"] / cpu_imp / rawr["ed25519_verify_per_cpu_s_all"]
                if rc_imp == 0 else None}

    res["export"] = {"seconds": w_exp, "bytes": os.path.getsize(exp)}
    imports = []
    for _ in range(repeats):
        imports.append(paired("verify", jobs, 0.5, import_once))
        if imports[-1][0]["exit"]:
            break
    res["import"] = median_run(imports, lambda i: i["sig_per_s"])
    if res["import"]["exit"] == 0:
        res["import"]["sig_per_s"] = res["import"]["sig_per_s"] or None
    shutil.rmtree(replica, ignore_errors=True)
    if not a.keep:
        os.unlink(exp)

    # Disk use, before the timing runs below add entries.
    data = os.path.join(ledger, "data.mdb")
    ms, ms_text = mdb_stat_bytes(ledger)
    res["disk"] = {"data_mdb_bytes": os.path.getsize(data),
                   "bytes_per_entry_file": os.path.getsize(data) / size,
                   "mdb_stat": ms,
                   "bytes_per_entry_in_use": ms["bytes_in_use"] / size if ms else None}
    if ms_text:
        with open(os.path.join(a.dir, "mdb_stat.txt"), "w") as f:
            f.write(ms_text)

    log("small commands (%d runs each) ..." % a.runs)

    def runs(argvs):
        """Wall and CPU seconds of each run."""
        walls, cpus = [], []
        for argv in argvs:
            walls.append(r.spawn(argv)[0])
            cpus.append(r.last_cpu)
        return walls, cpus

    base = [a.ivl, "-L", ledger]
    rnd = random.Random(7)
    sme0 = subprocess.run([gen, "issues", "/dev/stdout", str(nsme), "0", "1", "1"],
                          capture_output=True, text=True).stdout.splitlines()[1].split(",")[0]
    small = {
        "exec_floor": [[a.ivl, "--version"]] * a.runs,
        "status": [base + ["status"]] * a.runs,
        "proof_inclusion": [base + ["proof", "inclusion", str(rnd.randrange(size))] for _ in range(a.runs)],
        "proof_consistency": [base + ["proof", "consistency", str(rnd.randrange(1, size))]
                              for _ in range(a.runs)],
        "single_issue": [base + ["issue", "--budget", BUDGET, "--to", sme0, "--amount", "100",
                                 "--key", auth]] * a.runs,
    }
    for name, argvs in small.items():
        walls, cpus = runs(argvs)
        res[name + "_ms"] = median_ms(walls)
        res[name + "_p90_ms"] = sorted(walls)[int(len(walls) * 0.9)] * 1000
        res[name + "_cpu_ms"] = median_ms(cpus)

    log("incremental verify after 1,000 new entries ...")
    cp = os.path.join(work, "checkpoint.txt")
    r.ivl_cmd("checkpoint", stdout=cp)
    _, _, _, out = r.spawn([gen, "flow", ledger, auth, str(nsme), str(nprov), "250", "1000",
                            str(now_unix), str(jobs)], stdout=os.path.join(work, "flow2.json"))
    vi = verify("--from", cp, "--jobs", str(jobs))
    vf = verify("--jobs", str(jobs))
    res["incremental"] = {"new_entries": json.loads(out)["entries"], "from_wall_s": vi["wall_s"],
                          "full_wall_s": vf["wall_s"], "fraction": vi["wall_s"] / vf["wall_s"],
                          "signatures_checked": vi["signatures"],
                          "replayed": vi["replayed"], "replayed_from": vi["replayed_from"]}

    # The same after 1,000 vouchers issued in one `issue --batch`, as a bureau
    # adds them: one key signs them all, as in a ledger built through --batch.
    # Each run adds its 1,000 and times `--from` the checkpoint taken before
    # them, then the full verification of the longer log (which the next
    # run's `--from` starts from); the run of the median fraction is reported.
    log("incremental verify after 1,000 batch-issued vouchers (%d run%s) ..."
        % (repeats, "s" if repeats > 1 else ""))
    incs = []
    for i in range(repeats):
        r.ivl_cmd("checkpoint", stdout=cp)
        r.spawn([gen, "issues", issue_csv, str(nsme), str(issued + 1000 * i), "1000", "1000"])
        r.ivl_cmd("issue", "--budget", BUDGET, "--batch", issue_csv, "--key", auth)
        vi = verify("--from", cp, "--jobs", str(jobs))
        vf = verify("--jobs", str(jobs))
        incs.append({"new_entries": 1000, "from_wall_s": vi["wall_s"], "full_wall_s": vf["wall_s"],
                     "fraction": vi["wall_s"] / vf["wall_s"], "signatures_checked": vi["signatures"],
                     "replayed": vi["replayed"], "replayed_from": vi["replayed_from"],
                     "entries": vf["entries"]})
        log("  %.1f ms of %.2f s: %.2f %%" % (vi["wall_s"] * 1000, vf["wall_s"], 100 * incs[-1]["fraction"]))
    incs.sort(key=lambda x: x["fraction"])
    res["incremental_batch"] = dict(incs[(len(incs) - 1) // 2], fractions=[x["fraction"] for x in incs])

    if a.profile:
        profile(a, r, work, jobs, gen, nsme, auth)

    res["total_seconds"] = time.perf_counter() - t_start
    res["loadavg_end"] = os.getloadavg()[0]
    res["table"] = table(res)
    print_table(res)
    js = json.dumps(res, indent=1)
    with open(os.path.join(a.dir, "bench.json"), "w") as f:
        f.write(js + "\n")
    print(js)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


def table(res):
    raw = res["raw"]
    j = res["jobs"]
    rows = []

    def row(name, value, unit, limit, limit_name, ratio, target, ok, cpu_eff=None, cpu_ms=None):
        rows.append({"figure": name, "value": value, "unit": unit, "limit": limit,
                     "limit_name": limit_name, "ratio": ratio, "target": target, "met": ok,
                     "cpu_efficiency": cpu_eff, "cpu_ms": cpu_ms})

    v1, vn = res["verify_1"], res["verify_all"]
    row("verify --jobs 1 (signatures/s)", v1["sig_per_s"], "sig/s", v1["limit"], "Ed25519 verify/s, 1 thread",
        v1["ratio"], ">= 0.85x", v1["ratio"] >= 0.85, v1["cpu_efficiency"])
    row("verify --jobs %d (signatures/s)" % j, vn["sig_per_s"], "sig/s", vn["limit"],
        "Ed25519 verify/s, %d threads" % j, vn["ratio"], ">= 0.85x", vn["ratio"] >= 0.85,
        vn["cpu_efficiency"])
    vr = res["verify_all_libsodium_only"]
    row("verify --jobs %d, no key tables (signatures/s)" % j, vr["sig_per_s"], "sig/s", vr["limit"],
        "Ed25519 verify/s, %d threads" % j, vr["ratio"], "(for comparison)", None, vr["cpu_efficiency"])
    mb = res["issue_batch"]["median_batch"]
    row("issue --batch (entries/s)", mb["per_s"], "entries/s", mb["limit"],
        "Ed25519 sign/s, %d threads" % j, mb["ratio"], ">= 0.5x", mb["ratio"] >= 0.5,
        res["issue_batch"]["cpu_efficiency"])
    im = res["import"]
    row("import (signatures/s)" if im["sig_per_s"] else "import (FAILED, exit %d)" % im["exit"],
        im["sig_per_s"], "sig/s", im["limit"], "Ed25519 verify/s, %d threads" % j,
        im["ratio"] if im["sig_per_s"] else None, ">= 0.8x",
        bool(im["sig_per_s"]) and im["ratio"] >= 0.8, im["cpu_efficiency"])
    si = res["single_issue_ms"]
    cm = raw["lmdb_commit_median_s"] * 1000
    row("single issue, median (ms)", si, "ms", cm, "one durable LMDB commit (ms)", si / cm, "<= 10 ms",
        si <= 10, None, res["single_issue_cpu_ms"])
    inc = res["incremental"]
    row("verify --from after 1,000 mixed entries (s)", inc["from_wall_s"], "s", inc["full_wall_s"],
        "full verify (s)", inc["fraction"], "<= 5%", inc["fraction"] <= 0.05)
    ib = res["incremental_batch"]
    row("verify --from after 1,000 batch-issued (s)", ib["from_wall_s"], "s", ib["full_wall_s"],
        "full verify (s)", ib["fraction"], "<= 5%", ib["fraction"] <= 0.05)
    rss = max(v1["peak_rss_kib"], vn["peak_rss_kib"]) / 1024
    row("verify peak RSS (MiB)", rss, "MiB", None, "", None, "<= 256 MiB", rss <= 256)
    bpe = res["disk"]["bytes_per_entry_file"]
    row("bytes per entry (data.mdb / entries)", bpe, "B", res["disk"]["bytes_per_entry_in_use"],
        "pages in use / entries", None, "< 600 B", bpe < 600)
    for k, name in (("proof_inclusion_ms", "proof inclusion, median (ms)"),
                    ("proof_consistency_ms", "proof consistency, median (ms)")):
        row(name, res[k], "ms", res["exec_floor_ms"], "exec of `ivl --version` (ms)",
            res[k] / res["exec_floor_ms"], "<= 2 ms", res[k] <= 2, None, res[k.replace("_ms", "_cpu_ms")])
    return rows


def fmt(x):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 10:
        return "{:.1f}".format(x)
    return "{:.3g}".format(x)


def print_table(res):
    raw = res["raw"]
    out = sys.stderr
    print("", file=out)
    print("ivl benchmark: %d entries, %d cores, %s" % (res["size"], res["cores"], res["ivl_version"]), file=out)
    print("raw: Ed25519 sign %s/s (1 thr) %s/s (%d thr), per CPU-s %s (1) %s (%d); verify %s/s (1) %s/s (%d), "
          "per CPU-s %s (1) %s (%d); LMDB durable commit %.2f ms (p90 %.2f); batched puts %s/s"
          % (fmt(raw["ed25519_sign_1"]), fmt(raw["ed25519_sign_all"]), res["jobs"], fmt(raw["ed25519_sign_per_cpu_s"]),
             fmt(raw["ed25519_sign_per_cpu_s_all"]), res["jobs"],
             fmt(raw["ed25519_verify_1"]), fmt(raw["ed25519_verify_all"]), res["jobs"],
             fmt(raw["ed25519_verify_per_cpu_s"]), fmt(raw["ed25519_verify_per_cpu_s_all"]), res["jobs"],
             raw["lmdb_commit_median_s"] * 1000, raw["lmdb_commit_p90_s"] * 1000,
             fmt(raw["lmdb_puts_per_s"])), file=out)
    hdr = ("figure", "ivl", "raw limit", "ratio", "target", "met", "per-CPU-s ratio", "CPU ms")
    rows = [(t["figure"], fmt(t["value"]), fmt(t["limit"]) + (" (" + t["limit_name"] + ")" if t["limit_name"] else ""),
             fmt(t["ratio"]), t["target"], fmt(t["met"]), fmt(t["cpu_efficiency"]), fmt(t["cpu_ms"]))
            for t in res["table"]]
    w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    for x in [hdr] + rows:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(x)), file=out)
    print("build %.0f s, total %.0f s; load average %.2f at start, %.2f at end; `ivl --version` %.2f ms "
          "(%.2f ms CPU)" % (res["build_seconds"], res["total_seconds"], res["loadavg_start"], res["loadavg_end"],
                             res["exec_floor_ms"], res["exec_floor_cpu_ms"]), file=out)
    print("per-CPU-s ratio: ivl's rate per CPU second over libsodium's per CPU second on as many "
          "threads (what the wall ratio would be on an otherwise idle machine with every thread busy)",
          file=out)
    print("", file=out)


def profile(a, r, work, jobs, gen, nsme, auth):
    perf = shutil.which("perf")
    if not perf:
        log("perf not found: no profile")
        return
    for name, argv in (
            ("verify", [a.ivl, "-L", r.ledger, "verify", "--jobs", str(jobs)]),
            ("issue-batch", [a.ivl, "-L", r.ledger, "issue", "--budget", BUDGET, "--batch",
                             os.path.join(work, "issue-prof.csv"), "--key", auth])):
        if name == "issue-batch":
            r.spawn([gen, "issues", os.path.join(work, "issue-prof.csv"), str(nsme), "0",
                     str(4 * a.issue_batch), "10"])
        data = os.path.join(a.dir, "perf-%s.data" % name)
        if r.spawn([perf, "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", data, "--"] + argv,
                   check=False)[1] != 0:
            log("perf record failed for %s (perf_event_paranoid?): no profile" % name)
            continue
        rep = ""
        for opts in (["--no-children", "--sort", "dso"], ["--no-children", "--sort", "dso,sym"],
                     ["--children", "--sort", "sym"]):
            rep += "==== perf report %s\n" % " ".join(opts)
            rep += subprocess.run([perf, "report", "-i", data, "--stdio", "--percent-limit", "0.5",
                                   "-g", "none"] + opts, capture_output=True, text=True).stdout
        with open(os.path.join(a.dir, "perf-%s.txt" % name), "w") as f:
            f.write(rep)
        log("profile of %s: %s" % (name, os.path.join(a.dir, "perf-%s.txt" % name)))


if __name__ == "__main__":
    main()
