#!/usr/bin/env python3
"""Checks for `make bench` that the Lua peer answers what the backend does.

usage: same.py list BACKEND_JSON PEER_JSON
       same.py create BACKEND_201 PEER_201 PEER_GET BACKEND_RECORD PEER_RECORD

list: the two bodies must be the same JSON, keys in the same order.

create: both 201 bodies hold the same record, keys in the same order, but
for the values of id, created_at and updated_at; the peer's record read
back through the backend (GET /v1/articles/<id>) is the peer's 201 body;
and the two Redis hashes (redis-cli --raw HGETALL output) have the same
fields with the same values but for id, created_at and updated_at (and
_json, the backend's stored rendering, which bench.sh appends from the
index's rendering hash and which must be its 201 record).

Exit status 0 when all hold byte for byte; 2 when they hold as JSON (the
same values, keys in the same order) but the bytes differ (whitespace,
escapes: the first difference goes to stderr); 1 (the reason on stderr)
otherwise.
"""

import json
import sys

OWN = ("id", "created_at", "updated_at")


def fail(msg):
    sys.stderr.write("same.py: %s\n" % msg)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def ordered(text):
    """JSON with every object as a list of (key, value): order counts"""
    try:
        return json.loads(text, object_pairs_hook=list)
    except ValueError as e:
        fail("not JSON: %s" % e)


def first_diff(a, b):
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
             min(len(a), len(b)))
    return "from byte %d (%d vs %d bytes): %r vs %r" % (
        n, len(a), len(b), a[max(0, n - 20):n + 40],
        b[max(0, n - 20):n + 40])


BYTES_DIFFER = []


def same_body(a, b, what):
    """a and b must be the same JSON; note when only the bytes differ"""
    if a == b:
        return
    if ordered(a) != ordered(b):
        fail("%s: different JSON %s" % (what, first_diff(a, b)))
    BYTES_DIFFER.append("%s: the same JSON, other bytes %s"
                        % (what, first_diff(a, b)))


def check_list(a_path, b_path):
    same_body(read(a_path), read(b_path), "list")


def record(path):
    lines = read(path).decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or len(lines) % 2:
        fail("%s: not a HGETALL reply" % path)
    return dict(zip(lines[0::2], lines[1::2]))


def strip(d):
    return {k: v for k, v in d.items() if k not in OWN}


def check_create(b201, p201, pget, brec, prec):
    b, p = json.loads(read(b201)), json.loads(read(p201))
    if not isinstance(b.get("data"), dict) or not isinstance(p.get("data"),
                                                             dict):
        fail("a create did not answer a record: %r / %r" % (b, p))
    if b.get("success") is not True or p.get("success") is not True:
        fail("a create did not succeed: %r / %r" % (b, p))
    if list(b["data"]) != list(p["data"]):
        fail("fields or their order differ: %r vs %r"
             % (list(b["data"]), list(p["data"])))
    if strip(b["data"]) != strip(p["data"]):
        fail("records differ: %r vs %r" % (b["data"], p["data"]))
    same_body(read(pget), read(p201),
              "the backend's GET of the peer's article vs the peer's 201")
    rb, rp = record(brec), record(prec)
    # the backend's stored rendering (redis/SCHEMA.md): its 201 record
    stored = rb.pop("_json", None)
    if stored is None:
        fail("the backend stored no rendering of its create")
    if not read(b201).decode().endswith('"data": %s}' % stored):
        fail("the backend's stored rendering is not its 201 record: %r"
             % stored)
    rp.pop("_json", None)
    if sorted(rb) != sorted(rp) or strip(rb) != strip(rp):
        fail("Redis records differ: %r vs %r" % (rb, rp))


def main():
    if sys.argv[1:2] == ["list"] and len(sys.argv) == 4:
        check_list(*sys.argv[2:])
    elif sys.argv[1:2] == ["create"] and len(sys.argv) == 7:
        check_create(*sys.argv[2:])
    else:
        fail("usage: see the docstring")
    if BYTES_DIFFER:
        sys.stderr.write("same.py: %s\n" % "; ".join(BYTES_DIFFER))
        sys.exit(2)


if __name__ == "__main__":
    main()
