#!/usr/bin/env python3
"""Revocation latency for `make bench`.

One keep-alive client streams GET requests with one key through the
module as fast as it can (one at a time).  Meanwhile `sqctl key disable
--id N` runs.  Reported per trial: the ms from sqctl returning to the first
401 the client receives (negative: the 401 arrived before sqctl had even
exited), the ms from starting sqctl to that 401, and how many 200s were
*sent* after sqctl returned (0 means no request was allowed after the
revocation was acknowledged; a request sent while sqctl ran and answered
200 after it returned is the race any revocation has, counted apart as
in_flight_200s).  The key is enabled again between trials.
Every trial is bounded (5 s).

usage: revoke.py HOST PORT PATH KEY KEY_ID TRIALS OUT_JSON -- SQCTL...
(SQCTL... is the sqctl command; SMARTLYQ_REDIS/PEPPER come from the env)
"""

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time

BOUND = 5.0


def stream(host, port, path, key, log, stop):
    conn = http.client.HTTPConnection(host, port, timeout=2)
    hdr = {"Authorization": "Bearer " + key}
    end = time.monotonic() + BOUND
    while not stop.is_set() and time.monotonic() < end:
        try:
            sent = time.monotonic()
            conn.request("GET", path, headers=hdr)
            r = conn.getresponse()
            r.read()
            log.append((time.monotonic(), r.status, sent))
            if r.status == 401:
                return
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=2)
            log.append((time.monotonic(), 0, time.monotonic()))


def status_of(host, port, path, key):
    conn = http.client.HTTPConnection(host, port, timeout=2)
    conn.request("GET", path, headers={"Authorization": "Bearer " + key})
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status


def main():
    sep = sys.argv.index("--")
    host, port, path, key, key_id, trials, out = sys.argv[1:sep]
    sqctl = sys.argv[sep + 1:]
    port, trials = int(port), int(trials)

    results = []
    for _ in range(trials):
        subprocess.run(sqctl + ["key", "enable", "--id", key_id],
                       check=True, stdout=subprocess.DEVNULL)
        st = status_of(host, port, path, key)
        if st != 200:
            sys.exit("revoke.py: key not accepted after enable: %d" % st)

        log, stop = [], threading.Event()
        t = threading.Thread(target=stream,
                             args=(host, port, path, key, log, stop))
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        subprocess.run(sqctl + ["key", "disable", "--id", key_id],
                       check=True, stdout=subprocess.DEVNULL)
        t1 = time.monotonic()
        t.join(BOUND + 1)
        stop.set()

        first401 = next((ts for ts, s, _ in log if s == 401), None)
        late200 = sum(1 for _, s, sent in log if s == 200 and sent > t1)
        inflight200 = sum(1 for ts, s, sent in log
                          if s == 200 and ts > t1 and sent <= t1)
        before = sum(1 for ts, _, _ in log if ts < t0)
        results.append({
            "after_return_ms": None if first401 is None
            else (first401 - t1) * 1000.0,
            "after_start_ms": None if first401 is None
            else (first401 - t0) * 1000.0,
            "sqctl_ms": (t1 - t0) * 1000.0,
            "late_200s": late200,
            "in_flight_200s": inflight200,
            "client_rps": before / 0.3 if before else 0.0,
            "errors": sum(1 for _, s, _ in log if s not in (200, 401)),
        })

    subprocess.run(sqctl + ["key", "enable", "--id", key_id],
                   check=True, stdout=subprocess.DEVNULL)

    ok = [r for r in results if r["after_return_ms"] is not None]
    summary = {
        "trials": trials,
        "missed": trials - len(ok),
        "median_after_return_ms": statistics.median(
            r["after_return_ms"] for r in ok) if ok else None,
        "max_after_return_ms": max(
            r["after_return_ms"] for r in ok) if ok else None,
        "median_after_start_ms": statistics.median(
            r["after_start_ms"] for r in ok) if ok else None,
        "median_sqctl_ms": statistics.median(r["sqctl_ms"] for r in results),
        "late_200s": sum(r["late_200s"] for r in results),
        "in_flight_200s": sum(r["in_flight_200s"] for r in results),
        "median_client_rps": statistics.median(
            r["client_rps"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "runs": results,
    }
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    print("revocation: %s" % json.dumps(
        {k: v for k, v in summary.items() if k != "runs"}))


if __name__ == "__main__":
    main()
