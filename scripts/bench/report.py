#!/usr/bin/env python3
"""Summarise `make bench` results as a markdown table.

usage: report.py RESULTS_DIR OUT_MD

RESULTS_DIR holds cases.tsv (id, label, expected status per line),
<id>.<run>.txt (wrk --latency output per run), machine.txt, settings.txt
and, when measured, revoke.json.  Per case: median req/s over the runs
with min-max, the median over the runs of wrk's p50 and p99, and the
count of responses that did not have the expected status.  Ratios are
of medians from this same invocation.
"""

import glob
import json
import os
import re
import statistics
import sys

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


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
    return r


def fmt_lat(v):
    if v is None:
        return "-"
    return "%.0f µs" % (v * 1000) if v < 1 else "%.2f ms" % v


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
        bad = 0
        for r in runs:
            if expect == 200:
                bad += r["non2xx"]
            else:
                bad += r["total"] - r["non2xx"]
            bad += r["sockerr"]
        stats[cid] = {
            "label": label, "n": len(runs), "med": statistics.median(rps),
            "min": min(rps), "max": max(rps),
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "bad": bad, "total": sum(r["total"] for r in runs),
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

    # (name, case, baseline, goal: the ratio must be >= it, or None)
    ratios = [
        ("module allow, cached / plain proxy", "mod_allow", "proxy", 0.95),
        ("module deny (403), cached / static 403", "mod_deny", "static403",
         0.95),
        ("module allow, uncached / plain proxy", "mod_allow_nc", "proxy",
         0.7),
        ("module allow, uncached / Lua peer, uncached", "mod_allow_nc",
         "peer", 2.0),
        ("module allow, cached / Lua peer, cached (warm)", "mod_allow",
         "peer_cached", None),
        ("module allow, 10k keys, cached / plain proxy", "mod_10k", "proxy",
         None),
        ("module allow, 10k keys, uncached / plain proxy", "mod_10k_nc",
         "proxy", None),
        ("module deny (403), uncached / static 403", "mod_deny_nc",
         "static403", None),
        ("Lua peer, cached (warm) / plain proxy", "peer_cached", "proxy",
         None),
        ("Lua peer, uncached / plain proxy", "peer", "proxy", None),
        ("module → backend list / static JSON file", "backend",
         "static_json", None),
    ]
    lines += ["", "| ratio (of medians, this run) | value | goal |",
              "|---|---:|---|"]
    for name, a, b, goal in ratios:
        g = "" if goal is None else "≥ %.2f" % goal
        if a in stats and b in stats and stats[b]["med"]:
            v = stats[a]["med"] / stats[b]["med"]
            if goal is not None:
                g += " met" if v >= goal else " **missed**"
            lines.append("| %s | %.2f | %s |" % (name, v, g))
        else:
            lines.append("| %s | not measured | %s |" % (name, g))

    mt = read("metrics.txt")
    m_e = re.search(r"^smartlyq_cache_entries (\d+)$", mt, re.M)
    m_b = re.search(r"^smartlyq_cache_bytes_used (\d+)$", mt, re.M)
    if m_e and m_b and int(m_e.group(1)):
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
                "sqctl started (sqctl itself: %.1f ms); 200s received "
                "after sqctl returned: %d; trials with no 401: %d." % (
                    j["trials"], j["median_client_rps"],
                    j["median_after_return_ms"], j["max_after_return_ms"],
                    j["median_after_start_ms"], j["median_sqctl_ms"],
                    j["late_200s"], j["missed"]))
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
