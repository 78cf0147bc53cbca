#!/usr/bin/env python3
"""Mass key seeding for `make bench`: N live secret keys for one user,
written straight into Redis with `redis-cli --pipe` (sqctl would take a
process and several round trips per key).

Each key record copies the fields of a template record that sqctl made
(type, mode, status, scopes, ...), with its own id, name, last4 and
created_at, exactly as redis/smartlyq.lua's header lays it out:

    sq:key:{<digest>}   hash, digest = hex(BLAKE2b-256, key = pepper,
                        message = the full key)
    sq:keyid:<id>       <digest>
    sq:user:{u<uid>}:keys  set of key ids

usage: keys.py PEPPER_FILE TEMPLATE_FILE FIRST_ID COUNT KEYS_OUT > protocol
TEMPLATE_FILE holds `redis-cli --raw HGETALL` output (field, value lines).
"""

import hashlib
import secrets
import string
import sys
import time

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def main():
    pepper_file, template_file, first_id, count, keys_out = sys.argv[1:6]
    first_id, count = int(first_id), int(count)

    with open(pepper_file) as f:
        pepper = bytes.fromhex(f.read().strip())
    with open(template_file) as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % 2:
        sys.exit("keys.py: odd template")
    template = dict(zip(lines[0::2], lines[1::2]))
    for need in ("id", "user_id", "type", "mode", "status", "scopes"):
        if need not in template:
            sys.exit("keys.py: template lacks " + need)
    if template["type"] != "secret" or template["mode"] != "live":
        sys.exit("keys.py: template must be a live secret key")

    uid = template["user_id"]
    now = str(int(time.time()))
    out = sys.stdout.buffer
    with open(keys_out, "w") as kf:
        for n in range(count):
            kid = str(first_id + n)
            body = "".join(secrets.choice(B62) for _ in range(40))
            key = "sqk_live_" + body
            digest = hashlib.blake2b(key.encode(), digest_size=32,
                                     key=pepper).hexdigest()
            rec = dict(template)
            rec.update(id=kid, name="bench%d" % n, last4=body[-4:],
                       created_at=now, status="active", workspaces="",
                       expires_at="0", rotated_at="0", sunset_at="0")
            rec.pop("last_used_at", None)
            rec.pop("last_used_ip", None)
            rec.pop("replaced_by", None)
            flat = []
            for k, v in rec.items():
                flat += [k, v]
            out.write(resp("HSET", "sq:key:{" + digest + "}", *flat))
            out.write(resp("SET", "sq:keyid:" + kid, digest))
            out.write(resp("SADD", "sq:user:{u%s}:keys" % uid, kid))
            kf.write(key + "\n")


if __name__ == "__main__":
    main()
