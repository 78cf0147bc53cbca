#!/usr/bin/env python3
"""Summarise `make bench` results as a markdown table.

usage: report.py RESULTS_DIR OUT_MD

RESULTS_DIR holds cases.tsv (id, label, expected status per line),
<id>.<run>.txt (wrk --latency output per run), <id>.<run>.unexpected
(`uniq -c` of the statuses nginx logged for that run that were not the
case's), <id>.<run>.tw (connections to the backend and to the origin
closed during the run), machine.txt, settings.txt, conns.txt and, when
measured, revoke.json, time-wait.txt, redis-aof.txt.  Per case: median
req/s over the runs with min-max, the median over the runs of wrk's p50
and p99, and the count of unexpected responses.  Ratios are of medians
from this same invocation; their per-run range pairs run r of one case
with run r of the other (the cases run interleaved).  Then the goals of
issue 13, each met or missed.
"""

import glob
import json
import os
import re
import statistics
import sys

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}

# the cases of scripts/bench.sh, for "N of M cases measured"
ALL_CASES = ("static200 static403 proxy mod_allow mod_deny mod_10k "
             "mod_allow_nc mod_deny_nc mod_10k_nc peer peer_cached backend "
             "static_json peer_list backend_create peer_create "
             # issue 15, "sback"
             "backend_create_wait1").split()


# === act (issue 16) ===
ALL_CASES += "mod_act mod_act_off mod_act_10k mod_act_10k_off".split()
# === end act ===


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        raise ValueError("latency " + text)
    return float(m.group(1)) * UNIT[m.group(2)]


def parse(path):
    with open(path) as f:
        out = f.read()
    r = {"rps": None, "p50": None, "p99": None, "total": 0, "non2xx": 0,
         "sockerr": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    if m:
        r["p50"] = ms(m.group(1))
    m = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if m:
        r["p99"] = ms(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["total"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        r["sockerr"] = sum(int(x) for x in m.groups())
    r["logged"] = None
    r["codes"] = {}
    base = path[:-len(".txt")]
    if os.path.exists(base + ".unexpected"):
        r["logged"] = 0
        with open(base + ".unexpected") as f:
            for line in f:
                if line.strip():
                    n, code = line.split()
                    r["codes"][code] = r["codes"].get(code, 0) + int(n)
                    r["logged"] += int(n)
    r["closed"] = None
    if os.path.exists(base + ".tw"):
        with open(base + ".tw") as f:
            r["closed"] = [int(x) for x in f.read().split()]
    return r


def unexpected(r, expect):
    """Responses of one run without the expected status, plus socket
    errors.  nginx logs each such response with its status (exact); wrk
    only tells >= 400 from the rest, which is the floor this cannot go
    under (and the whole count for results without nginx's log)."""
    if expect < 400:
        by_wrk = r["non2xx"]
    else:
        by_wrk = r["total"] - r["non2xx"]
    logged = r["logged"] if r["logged"] is not None else 0
    return max(logged, by_wrk) + r["sockerr"]


def fmt_lat(v):
    if v is None:
        return "-"
    return "%.0f µs" % (v * 1000) if v < 1 else "%.2f ms" % v


# === act (issue 16): CPU per request of the nginx worker and of Redis ===
def act_cpu(rdir, stats, clk):
    """Lines on the CPU time per request of the activity cases, from the
    ticks bench.sh read around each run: (worker, Redis) before, after."""
    pairs = [("mod_act", "mod_act_off"), ("mod_act_10k", "mod_act_10k_off")]
    if not clk or not any(a in stats and b in stats for a, b in pairs):
        return []
    tick_us = 1e6 / int(clk)
    out = ["", "CPU per request (issue 16; utime + stime over the timed "
           "runs / requests; the ratio off / on is what on / off "
           "throughput would be were the two CPU-bound):", "",
           "| case | nginx worker | Redis | both | off / on |",
           "|---|---:|---:|---:|---:|"]

    def per_req(cid):
        w = r = n = 0
        for p in glob.glob(os.path.join(rdir, "%s.[0-9]*.cpu" % cid)):
            with open(p) as f:
                w0, r0, w1, r1 = (int(x) for x in f.read().split())
            with open(p[:-len(".cpu")] + ".txt") as f:
                m = re.search(r"(\d+) requests in", f.read())
            if m:
                w += w1 - w0
                r += r1 - r0
                n += int(m.group(1))
        return (w * tick_us / n, r * tick_us / n) if n else None

    for on, off in pairs:
        a, b = per_req(on), per_req(off)
        if not a or not b:
            continue
        for cid, v, rel in ((on, a, "%.3f" % (sum(b) / sum(a))),
                            (off, b, "")):
            out.append("| %s | %.1f µs | %.1f µs | %.1f µs | %s |" % (
                cid, v[0], v[1], sum(v), rel))
    return out
# === end act ===


def main():
    rdir, out_md = sys.argv[1:3]
    cases = []
    with open(os.path.join(rdir, "cases.tsv")) as f:
        for line in f:
            cid, label, expect = line.rstrip("\n").split("\t")
            cases.append((cid, label, int(expect)))

    stats = {}
    for cid, label, expect in cases:
        runs = [parse(p) for p in sorted(glob.glob(
            os.path.join(rdir, "%s.[0-9]*.txt" % cid)))]
        runs = [r for r in runs if r["rps"] is not None]
        if not runs:
            continue
        rps = [r["rps"] for r in runs]
        codes = {}
        for r in runs:
            for code, n in r["codes"].items():
                codes[code] = codes.get(code, 0) + n
            if r["sockerr"]:
                codes["socket errors"] = (codes.get("socket errors", 0)
                                          + r["sockerr"])
        closed = [r["closed"] for r in runs if r["closed"] is not None]
        stats[cid] = {
            "label": label, "n": len(runs), "med": statistics.median(rps),
            "min": min(rps), "max": max(rps), "runs": rps,
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "p99s": [r["p99"] for r in runs],
            "bad": sum(unexpected(r, expect) for r in runs),
            "codes": codes, "total": sum(r["total"] for r in runs),
            "closed": [sum(c[i] for c in closed) for i in (0, 1)]
            if closed else None,
        }

    def read(name):
        p = os.path.join(rdir, name)
        return open(p).read().strip() if os.path.exists(p) else ""

    lines = ["# SmartlyQ edge benchmark", ""]
    lines.append("Machine: " + read("machine.txt"))
    lines.append("")
    lines.append("Settings: " + read("settings.txt"))
    lines.append("")
    lines.append("| case | req/s (median) | min–max | p50 | p99 | runs "
                 "| unexpected |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for cid, label, expect in cases:
        s = stats.get(cid)
        if not s:
            lines.append("| %s | not measured | | | | | |" % label)
            continue
        lines.append("| %s | %.0f | %.0f–%.0f | %s | %s | %d | %d |" % (
            label, s["med"], s["min"], s["max"], fmt_lat(s["p50"]),
            fmt_lat(s["p99"]), s["n"], s["bad"]))

    def ratio(a, b):
        """(median ratio, per-run min, per-run max) or None"""
        if a not in stats or b not in stats or not stats[b]["med"]:
            return None
        pairs = [x / y for x, y in zip(stats[a]["runs"], stats[b]["runs"])
                 if y]
        return (stats[a]["med"] / stats[b]["med"], min(pairs), max(pairs))

    def spread(v):
        return "%.2f–%.2f" % (v[1], v[2])

    # informational ratios (the goals of issue 13 follow)
    ratios = [
        ("module allow, cached / Lua peer, cached (warm)", "mod_allow",
         "peer_cached"),
        ("module allow, 10k keys, cached / plain proxy", "mod_10k",
         "proxy"),
        ("module allow, 10k keys, uncached / plain proxy", "mod_10k_nc",
         "proxy"),
        ("module deny (403), uncached / static 403", "mod_deny_nc",
         "static403"),
        ("Lua peer, cached (warm) / plain proxy", "peer_cached", "proxy"),
        ("Lua peer, uncached / plain proxy", "peer", "proxy"),
        ("Lua peer list / static JSON file", "peer_list", "static_json"),
        # issue 15, "sback": the cost of WAIT 1 on a replica
        ("create, WAIT 1 on a replica / create without WAIT",
         "backend_create_wait1", "backend_create"),
    ]
    lines += ["", "| ratio (of medians, this run) | value | per-run range |",
              "|---|---:|---:|"]
    for name, a, b in ratios:
        v = ratio(a, b)
        if v:
            lines.append("| %s | %.2f | %s |" % (name, v[0], spread(v)))
        else:
            lines.append("| %s | not measured | |" % name)

    conns = read("conns.txt")
    lines += ["", "Goals of issue 13 (this run; ratios of medians, p99 the "
              "median of the runs' p99):", "",
              "| goal | issue 13 \"now\" | this run | per-run range | "
              "goal | |", "|---|---:|---:|---:|---:|---|"]

    def goal(name, now, value, rng, target, ok):
        if value is None:
            lines.append("| %s | %s | not measured | | %s | |"
                         % (name, now, target))
        else:
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                name, now, value, rng, target,
                "met" if ok else "**missed**"))

    for name, now, a, b, g in [
            ("module → backend, list 20 articles / nginx static JSON of "
             "the same size", "0.02", "backend", "static_json", 0.25),
            ("module → backend list / OpenResty Lua peer_list (Redis + "
             "cjson, same JSON)", "–", "backend", "peer_list", 1.0),
            ("module → backend, create 1 article (POST, AOF appendfsync "
             "always) / Lua peer_create", "–", "backend_create",
             "peer_create", 1.0),
            ("module allow, cached / plain proxy", "0.78", "mod_allow",
             "proxy", 0.95),
            ("module deny 403, cached / static 403", "0.73", "mod_deny",
             "static403", 0.95),
            ("module allow, uncached / plain proxy", "0.53", "mod_allow_nc",
             "proxy", 0.7),
            ("module allow, uncached / Lua peer uncached", "1.48",
             "mod_allow_nc", "peer", 2.0)]:
        v = ratio(a, b)
        goal(name, now, v and "%.2f" % v[0], v and spread(v),
             "≥ %.2f" % g, v and v[0] >= g)

    # === act (issue 16): recording key activity costs at most 3 % ===
    for name, a, b in [
            ("module allow, cached: activity on / off (issue 16)",
             "mod_act", "mod_act_off"),
            ("module allow, cached, 10k keys: activity on / off "
             "(issue 16)", "mod_act_10k", "mod_act_10k_off")]:
        v = ratio(a, b)
        goal(name, "–", v and "%.2f" % v[0], v and spread(v), "≥ 0.97",
             v and v[0] >= 0.97)
    cpu_lines = act_cpu(rdir, stats, read("clk_tck.txt"))
    # === end act ===

    s = stats.get("backend")
    if s and conns == "32":
        p99s = sorted(p for p in s["p99s"])
        goal("module → backend list, p99 at 32 connections", "21 ms",
             fmt_lat(s["p99"]), "%s–%s" % (fmt_lat(p99s[0]),
                                           fmt_lat(p99s[-1])),
             "≤ 5 ms", s["p99"] <= 5.0)
    else:
        goal("module → backend list, p99 at 32 connections%s" % (
             "" if not s else " (this run: %s connections)" % conns),
             "21 ms", None, None, "≤ 5 ms", False)

    if "mod_allow" in stats and "proxy" in stats:
        d = stats["mod_allow"]["p99"] - stats["proxy"]["p99"]
        pd = [x - y for x, y in zip(stats["mod_allow"]["p99s"],
                                    stats["proxy"]["p99s"])]
        goal("added p99 of the module, cached, over the plain proxy "
             "(mod_allow p99 − proxy p99)", "–", "%.3f ms" % d,
             "%.3f–%.3f ms" % (min(pd), max(pd)), "≤ 0.2 ms", d <= 0.2)
    else:
        goal("added p99 of the module, cached, over the plain proxy",
             "–", None, None, "≤ 0.2 ms", False)

    bad = sum(st["bad"] for st in stats.values())
    worst = [(st["bad"], cid) for cid, st in stats.items() if st["bad"]]
    goal("\"unexpected\" responses in any case (%d of %d cases measured)"
         % (len(stats), len(ALL_CASES)), "32",
         "%d" % bad if stats else None,
         ", ".join("%s %d" % (c, n) for n, c in sorted(worst, reverse=True))
         or "", "0", bad == 0)

    lines += cpu_lines      # act (issue 16)

    for cid, st in stats.items():
        if st["codes"]:
            lines.append("")
            lines.append("Unexpected in %s: %s." % (cid, ", ".join(
                "%s × %d" % (k, v) for k, v in sorted(st["codes"].items()))))

    tw = read("time-wait.txt")
    closed = ["%s %d to the backend, %d to the origin" % (
        cid, st["closed"][0], st["closed"][1])
        for cid, st in stats.items() if st["closed"] is not None
        and cid in ("backend", "backend_create", "proxy", "mod_allow")]
    if closed:
        lines += ["", "Keep-alive upstreams: connections closed during the "
                  "runs (TIME-WAIT sockets on either side, after minus "
                  "before each run): " + "; ".join(closed) + "." +
                  (" Left in TIME-WAIT at the end: %s." % tw.replace(
                      "\n", ", ") if tw else "")]
    same = read("same.txt")
    if same:
        lines += ["", "**The peers' answers differ from the backend's in "
                  "bytes, not in JSON** (scripts/bench/same.py): " +
                  same.replace("\n", "; ")]
    aof = read("redis-aof.txt")
    if aof:
        lines += ["", "Redis (all cases): %s." % aof]

    mt = read("metrics.txt")
    m_e = re.search(r"^smartlyq_cache_entries (\d+)$", mt, re.M)
    m_b = re.search(r"^smartlyq_cache_bytes_used (\d+)$", mt, re.M)
    # bytes per entry only mean something once the 10k keys filled it
    if (m_e and m_b and int(m_e.group(1))
            and ("mod_10k" in stats or "mod_10k_nc" in stats)):
        per = int(m_b.group(1)) / int(m_e.group(1))
        lines += ["", "Cache zone: %s entries in %s bytes of slab pages: "
                  "**%.0f bytes per entry**, so 1M entries need %.0f MiB "
                  "(target ≤ 256 MiB)." % (
                      m_e.group(1), m_b.group(1), per,
                      per * 1e6 / 2 ** 20)]

    rv = os.path.join(rdir, "revoke.json")
    lines.append("")
    if os.path.exists(rv):
        with open(rv) as f:
            j = json.load(f)
        if j["median_after_return_ms"] is None:
            lines.append("Revocation: no 401 seen within 5 s in any of %d "
                         "trials." % j["trials"])
        else:
            lines.append(
                "Revocation (`sqctl key disable`, %d trials, a client "
                "streaming ~%.0f req/s with the key through the module): "
                "first 401 **%.1f ms** after sqctl returned (median; max "
                "%.1f ms; negative = before sqctl exited), %.1f ms after "
                "sqctl started (sqctl itself: %.1f ms); 200s to requests "
                "sent after sqctl returned: %d (requests sent while sqctl "
                "ran, answered 200 after it returned: %d); trials with no "
                "401: %d." % (
                    j["trials"], j["median_client_rps"],
                    j["median_after_return_ms"], j["max_after_return_ms"],
                    j["median_after_start_ms"], j["median_sqctl_ms"],
                    j["late_200s"], j.get("in_flight_200s", 0),
                    j["missed"]))
    else:
        lines.append("Revocation: not measured.")

    notes = read("notes.md")
    if notes:
        lines += ["", notes]

    text = "\n".join(lines) + "\n"
    with open(out_md, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
