#!/usr/bin/env bash
# `make bench`: throughput and latency of the SmartlyQ module on loopback,
# against nginx's own limits, a plain proxy and an OpenResty-style Lua peer.
#
# One invocation starts, on free 127.0.0.1 ports in a throw-away dir:
#   - Redis (redis/redis.conf: AOF with appendfsync always, as in
#     production, for every case; the create cases wait for its fsync),
#     seeded with sqctl;
#   - the backend (build/smartlyq-backend, its default worker count
#     unless BENCH_BACKEND_WORKERS says otherwise);
#   - ONE nginx, worker_processes 1, loading the SmartlyQ module and
#     Debian's ndk + lua modules, with an "origin" server block (return
#     200) and the locations measured below.  Both upstreams (origin,
#     backend) keep connections alive: keepalive 64 (or BENCH_CONNS when
#     more), proxy_http_version 1.1, Connection "" (the report counts the
#     connections closed during the runs).
# Then wrk runs every case BENCH_RUNS times, interleaved (A B C ... A B C
# ...), after one short warm-up each; then the revocation latency; then a
# markdown table goes to stdout and build/bench/latest.md, with the goals
# of issue 13 met or missed (scripts/bench/report.py).
#
# Cases and the status each expects (mod_* use the decision cache, warm
# after the warm-up run; the *_nc ones turn it off with "smartlyq_cache
# off": one Redis round trip per request):
#   static200     200  nginx `return 200` (the limit)
#   static403     403  nginx `return 403` with the FORBIDDEN envelope
#   proxy         200  plain proxy_pass to the origin (the baseline)
#   mod_allow     200  smartlyq on + proxy_pass: valid key, member workspace
#   mod_deny      403  smartlyq on: valid key, foreign workspace (envelope)
#   mod_10k       200  as mod_allow, a different key of 10,000 on each
#                      request (scripts/bench/keys.lua)
#   mod_allow_nc 200, mod_deny_nc 403, mod_10k_nc 200   the same, cache off
#   peer          200  Lua peer (scripts/bench/sqbench_peer.lua), no cache:
#                      HMGET + SISMEMBER, two round trips, pooled connection
#   peer_cached   200  the same with a lua_shared_dict cache (10 s TTL), warm
#   backend       200  smartlyq on (cached) + the real backend: GET
#                      /v1/articles, 20 articles of one workspace
#   static_json   200  nginx serving a static file the size of that response
#   peer_list     200  the Lua peer of the backend
#                      (scripts/bench/sqbench_api.lua): the same 20 records
#                      from Redis, encoded with cjson into the same bytes
#   backend_create 201 smartlyq on (cached) + the real backend: POST
#                      /v1/articles, a JSON body (scripts/bench/post.lua)
#   peer_create   201  the Lua peer doing the same write (cjson, INCR,
#                      MULTI HSET ZADD EXEC)
#   backend_create_wait1 201  (issue 15) backend_create on a second
#                      backend started with --wait-replicas 1: every
#                      write followed by WAIT 1 500, answered once a
#                      replica (started for it, replicaof the bench's
#                      Redis) has it; through a second server block of
#                      the same nginx.  While a case of it runs, the
#                      replica is attached for backend_create too, so
#                      the two differ only by the WAIT.  Measure the pair
#                      alone: BENCH_CASES="backend_create backend_create_wait1"
# Before the runs, the peers' answers are checked against the backend's
# (scripts/bench/same.py): the list byte for byte, a create field for
# field, in the response and in Redis.
#
# "unexpected" (per case, over the timed runs): responses without the
# case's status, which nginx logs (access_log if=, one map lookup per
# request, nothing written while all is well) less 499 ("client closed":
# requests in flight when wrk stops), never fewer than wrk's own count of
# >= 400 against the expectation; plus wrk's socket errors.
#
# Settings (environment): BENCH_SECS (5) per run, BENCH_RUNS (5) per case,
# BENCH_CONNS (32), BENCH_THREADS (1), BENCH_WARMUP (1) seconds,
# BENCH_KEYS (10000), BENCH_REVOKE_TRIALS (5; 0 skips), BENCH_CASES (all; a
# space-separated subset), BENCH_KEEP=1 keeps the throw-away dir,
# BENCH_BACKEND_WORKERS (unset: no flag, the backend's own default, its
# CPU count; N: --workers N, to try another count on a shared machine),
# BENCH_PERF (none; case ids): after the timed runs, one more run of each
# named case under `perf record -g` on the nginx worker and the backend's
# processes, kept as build/bench/perf.<case>.data with the top of
# `perf report` in build/bench/perf.<case>.txt (not part of the table).
#
# Needs wrk, libnginx-mod-http-lua, lua-cjson and lua-nginx-redis:
# installed with apt-get when run as root and missing.  As root it also
# removes Debian's modules-enabled links for ndk and lua (their postinst
# makes them): the bench loads both by path, and no other nginx should.
# lua-nginx-redis depends on nginx-extras (a score of nginx modules), so
# when it is not installed the script only fetches its .deb with `apt-get
# download` and unpacks its one Lua file into build/bench/lua-redis
# instead of installing it.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SQ_BUILD:-$ROOT/build}
OUT=$BUILD/bench
HERE=$ROOT/scripts/bench
SQCTL=$BUILD/sqctl
MODULE=$BUILD/ngx_http_smartlyq_module.so
NGX_MODS=/usr/lib/nginx/modules

SECS=${BENCH_SECS:-5}
RUNS=${BENCH_RUNS:-5}
CONNS=${BENCH_CONNS:-32}
THREADS=${BENCH_THREADS:-1}
WARMUP=${BENCH_WARMUP:-1}
NKEYS=${BENCH_KEYS:-10000}
REVOKE_TRIALS=${BENCH_REVOKE_TRIALS:-5}
ALL_CASES="static200 static403 proxy mod_allow mod_deny mod_10k
           mod_allow_nc mod_deny_nc mod_10k_nc peer peer_cached backend
           static_json peer_list backend_create peer_create
           backend_create_wait1"
CASES=${BENCH_CASES:-$ALL_CASES}
PERF_CASES=${BENCH_PERF:-}
# === act (issue 16): key activity recording on vs off ===
ALL_CASES="$ALL_CASES mod_act mod_act_off mod_act_10k mod_act_10k_off"
CASES=${BENCH_CASES:-$ALL_CASES}
# === end act ===
BACKEND_ARGS=() BACKEND_NOTE="with its default worker count"
if [ -n "${BENCH_BACKEND_WORKERS:-}" ]; then
    BACKEND_ARGS=(--workers "$BENCH_BACKEND_WORKERS")
    BACKEND_NOTE="with --workers $BENCH_BACKEND_WORKERS"
fi

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

for v in SECS RUNS CONNS THREADS NKEYS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ ${BENCH_BACKEND_WORKERS:-1} =~ ^[1-9][0-9]*$ ]] ||
    die "BENCH_BACKEND_WORKERS must be a positive integer"
[[ $REVOKE_TRIALS =~ ^[0-9]+$ ]] ||
    die "BENCH_REVOKE_TRIALS must be an integer (0: skip)"
(( CONNS >= THREADS )) || die "BENCH_CONNS must be >= BENCH_THREADS"

for bin in "$SQCTL" "$BUILD/smartlyq-backend" "$MODULE"; do
    [ -e "$bin" ] || die "missing $bin: run make all first"
done

# ---------------------------------------------------------------- packages

BENCH_DEBS="wrk libnginx-mod-http-lua lua-cjson"
missing=""
for p in $BENCH_DEBS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        say "installing$missing"
        apt-get update -qq
        # shellcheck disable=SC2086  # one word per package
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    else
        die "missing:$missing; run: sudo apt-get install -y$missing"
    fi
fi
# the bench loads ndk and lua by path; Debian's postinst also enables them
# for every nginx that includes /etc/nginx/modules-enabled (Debian's own
# nginx.conf, scripts/test-deb.sh): take those two links away again
if [ "$(id -u)" = 0 ]; then
    for l in /etc/nginx/modules-enabled/*.conf; do
        case "$(readlink "$l" 2>/dev/null)" in
        */modules-available/mod-http-lua.conf|\
        */modules-available/mod-http-ndk.conf)
            say "disabling $l (the bench loads the module itself)"
            rm -f "$l" ;;
        esac
    done
fi

# resty.redis as Debian ships it: lua-nginx-redis, module "nginx.redis"
if [ -f /usr/share/lua/5.1/nginx/redis.lua ]; then
    LUA_REDIS_DIR=/usr/share/lua/5.1
else
    LUA_REDIS_DIR=$OUT/lua-redis/usr/share/lua/5.1
    if [ ! -f "$LUA_REDIS_DIR/nginx/redis.lua" ]; then
        mkdir -p "$OUT/deb"
        say "fetching lua-nginx-redis (apt-get download, not installed:" \
            "it would pull in nginx-extras)"
        (cd "$OUT/deb" && rm -f lua-nginx-redis_*.deb &&
         apt-get download lua-nginx-redis 2>/dev/null) ||
         { apt-get update -qq &&
           (cd "$OUT/deb" && apt-get download lua-nginx-redis); } ||
         die "could not fetch lua-nginx-redis"
        dpkg-deb -x "$(ls "$OUT"/deb/lua-nginx-redis_*.deb | head -1)" \
            "$OUT/lua-redis"
    fi
fi
for m in ndk_http_module ngx_http_lua_module; do
    [ -f "$NGX_MODS/$m.so" ] || die "missing $NGX_MODS/$m.so"
done
command -v wrk >/dev/null || die "wrk not found"

# ---------------------------------------------------------------- servers

TMP=$(mktemp -d /tmp/sqbench-XXXXXX)
RES=$TMP/results
mkdir -p "$TMP"/{redis,logs,tmp,html,secrets} "$RES" "$OUT"
# nginx's worker (not root) serves html/; the secrets stay private
chmod 755 "$TMP" "$TMP/html"
chmod 700 "$TMP/secrets"

NGINX_PID="" BACKEND_PID="" REDIS_PID=""
WAIT_PIDS=""    # issue 15: the replica and the WAIT backend, if started
KEEPALIVE=$(( CONNS > 64 ? CONNS : 64 ))

stop_all() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$NGINX_PID" ]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    if [ -n "$BACKEND_PID" ]; then
        kill -TERM "$BACKEND_PID" 2>/dev/null || true
        wait "$BACKEND_PID" 2>/dev/null || true
    fi
    # issue 15, "sback": the WAIT case's backend and replica
    for p in $WAIT_PIDS; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$REDIS_PID" ]; then
        kill -CONT "$REDIS_PID" 2>/dev/null || true
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [ "$rc" != 0 ]; then
        say "failed (exit $rc); logs:"
        tail -n 20 "$TMP"/logs/*.log >&2 2>/dev/null || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# distinct free ports, all bound at once so none is handed out twice
read -r REDIS_PORT BACKEND_PORT EDGE_PORT ORIGIN_PORT < <(python3 -c '
import socket
ss = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
')

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {    # wait_for <what> <command...>
    local what=$1 i
    shift
    for i in $(seq 1 100); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.05
    done
    die "$what did not come up"
}

export SMARTLYQ_REDIS=127.0.0.1:$REDIS_PORT
export SMARTLYQ_PEPPER_FILE=$TMP/secrets/pepper
export SMARTLYQ_REDIS_PASSWORD_FILE=$TMP/secrets/redis-password
for s in pepper signing redis-password; do
    (umask 077; "$SQCTL" secret > "$TMP/secrets/$s")
done
# the password reaches redis-server through an included file, not argv
(umask 077; echo "requirepass $(cat "$TMP/secrets/redis-password")" \
    > "$TMP/secrets/redis-auth.conf")

rcli() {
    REDISCLI_AUTH=$(cat "$TMP/secrets/redis-password") \
        redis-cli -p "$REDIS_PORT" "$@"
}

redis-server "$ROOT/redis/redis.conf" --port "$REDIS_PORT" \
    --dir "$TMP/redis" --logfile "$TMP/logs/redis.log" \
    --include "$TMP/secrets/redis-auth.conf" &
REDIS_PID=$!
wait_for "Redis" rcli ping

"$SQCTL" init --functions "$ROOT/redis/smartlyq.lua" >/dev/null

say "seeding (Redis :$REDIS_PORT)"
alice=$("$SQCTL" user create --email alice@example.com --name Alice)
bob=$("$SQCTL" user create --email bob@example.com --name Bob)
ws1=$("$SQCTL" workspace create --owner "$alice" --name "Alice Bench")
wsb=$("$SQCTL" workspace create --owner "$bob" --name "Bob Bench")
# the create cases write into a workspace of their own, so the list case's
# page (and the static file of its size) stays the same all along
wsc=$("$SQCTL" workspace create --owner "$alice" --name "Alice Writes")
alice_key=$("$SQCTL" key create --user "$alice" --name bench)
revoke_key=$("$SQCTL" key create --user "$alice" --name revoke)
revoke_id=$("$SQCTL" key list --user "$alice" | awk '/revoke/ {print $1}')
[[ $revoke_id =~ ^[0-9]+$ ]] || die "could not find the revoke key's id"

# 10,000 more keys for alice, written straight into Redis (keys.py):
# the template is the record sqctl made for alice_key
digest=$(python3 -c '
import hashlib, sys
pepper = bytes.fromhex(open(sys.argv[1]).read().strip())
print(hashlib.blake2b(sys.argv[2].encode(), digest_size=32,
                      key=pepper).hexdigest())' \
    "$TMP/secrets/pepper" "$alice_key")
rcli --raw hgetall "sq:key:{$digest}" > "$TMP/key-template"
[ -s "$TMP/key-template" ] || die "no key record at sq:key:{<digest>}"
last_id=$(rcli incrby sq:seq:key "$NKEYS")
python3 "$HERE/keys.py" "$TMP/secrets/pepper" "$TMP/key-template" \
    $((last_id - NKEYS + 1)) "$NKEYS" "$TMP/keys.txt" \
    | rcli --pipe > "$TMP/logs/pipe.log"
grep -q 'errors: 0' "$TMP/logs/pipe.log" || die "redis-cli --pipe: $(cat "$TMP/logs/pipe.log")"

# the peer's records: keyed by the raw key (see sqbench_peer.lua)
rcli hset "peer:key:$alice_key" user_id "$alice" status active >/dev/null

"$BUILD/smartlyq-backend" --listen "127.0.0.1:$BACKEND_PORT" \
    --redis "127.0.0.1:$REDIS_PORT" \
    --signing-key-file "$TMP/secrets/signing" \
    --pepper-file "$TMP/secrets/pepper" \
    --redis-password-file "$TMP/secrets/redis-password" \
    --functions "$ROOT/redis/smartlyq.lua" "${BACKEND_ARGS[@]}" \
    2>>"$TMP/logs/backend.log" &
BACKEND_PID=$!
wait_for "the backend" port_open "$BACKEND_PORT"

# === issue 15, "sback": WAIT 1 on a replica (backend_create_wait1) ===
# a replica of the bench's Redis, a second backend that WAITs for it after
# every write, and a server block of its own (the edge signs the URI it
# got, so the case needs its own port rather than a rewritten path)
WAIT_CONF=""
if [[ " $CASES " == *" backend_create_wait1 "* ]]; then
    read -r REPLICA_PORT WAIT_BACKEND_PORT WAIT_EDGE_PORT < <(python3 -c '
import socket
ss = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
')
    mkdir -p "$TMP/replica"
    (umask 077; echo "masterauth $(cat "$TMP/secrets/redis-password")" \
        > "$TMP/secrets/redis-replica.conf")
    redis-server "$ROOT/redis/redis.conf" --port "$REPLICA_PORT" \
        --dir "$TMP/replica" --logfile "$TMP/logs/replica.log" \
        --include "$TMP/secrets/redis-auth.conf" \
        --include "$TMP/secrets/redis-replica.conf" \
        --replicaof 127.0.0.1 "$REDIS_PORT" &
    WAIT_PIDS="$WAIT_PIDS $!"
    replica_online() { rcli info replication | grep -q 'state=online'; }
    wait_for "the replica" replica_online
    "$BUILD/smartlyq-backend" --listen "127.0.0.1:$WAIT_BACKEND_PORT" \
        --redis "127.0.0.1:$REDIS_PORT" \
        --signing-key-file "$TMP/secrets/signing" \
        --pepper-file "$TMP/secrets/pepper" \
        --redis-password-file "$TMP/secrets/redis-password" \
        --functions "$ROOT/redis/smartlyq.lua" "${BACKEND_ARGS[@]}" \
        --wait-replicas 1 --wait-timeout-ms 500 \
        2>>"$TMP/logs/backend-wait.log" &
    WAIT_PIDS="$WAIT_PIDS $!"
    wait_for "the WAIT backend" port_open "$WAIT_BACKEND_PORT"
    WAIT_CONF="
    upstream backend_wait {
        server 127.0.0.1:$WAIT_BACKEND_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000;
    }

    server {
        listen 127.0.0.1:$WAIT_EDGE_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";

        location /v1/articles {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not_api;
            smartlyq on;
            smartlyq_scope articles;
            proxy_pass http://backend_wait;
        }
    }
"
fi
# === end of issue 15, "sback" ===

cat > "$TMP/nginx.conf" <<EOF
load_module $NGX_MODS/ndk_http_module.so;
load_module $NGX_MODS/ngx_http_lua_module.so;
load_module $MODULE;

daemon off;
master_process on;
worker_processes 1;
error_log $TMP/logs/error.log warn;
pid $TMP/logs/nginx.pid;

events {
    worker_connections 4096;
}

http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $TMP/tmp/body;
    proxy_temp_path $TMP/tmp/proxy;
    fastcgi_temp_path $TMP/tmp/fastcgi;
    uwsgi_temp_path $TMP/tmp/uwsgi;
    scgi_temp_path $TMP/tmp/scgi;
    keepalive_requests 100000;

    # "unexpected" (report.py): a response without its case's status is
    # logged, one line each; every case's location has its own condition
    # (a map of \$status, evaluated in the log phase; nothing is written
    # while all is well)
    log_format sqbad '\$status \$request_method \$uri';
    map \$status \$sq_not200 { 200 0; default 1; }
    map \$status \$sq_not403 { 403 0; default 1; }
    map "\$request_method \$status" \$sq_not_api {
        "GET 200" 0;
        "POST 201" 0;
        default 1;
    }

    smartlyq_redis 127.0.0.1:$REDIS_PORT;
    smartlyq_redis_password_file $TMP/secrets/redis-password;
    smartlyq_key_pepper_file $TMP/secrets/pepper;
    smartlyq_signing_key_file $TMP/secrets/signing;
    smartlyq_cache_zone zone=bench:64m ttl=60s negative_ttl=60s;
    smartlyq_cache bench;

    lua_package_path "$HERE/?.lua;$LUA_REDIS_DIR/?.lua;;";
    lua_shared_dict peer_cache 16m;
    init_by_lua_block {
        require("sqbench_peer").init("127.0.0.1", $REDIS_PORT,
                                     "$TMP/secrets/redis-password")
        require("sqbench_api")
    }

    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000;
    }

    # keep-alive to the backend: keepalive (idle connections kept by the
    # worker: at least one per wrk connection), HTTP/1.1 and no
    # "Connection: close" (the edge server below); checked during the runs
    # by counting TIME-WAIT sockets of the backend's port
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000;
    }

    # the origin every proxy case goes to: as cheap as nginx gets
    server {
        listen 127.0.0.1:$ORIGIN_PORT;
        location / {
            return 200 "ok\n";
        }
    }

    server {
        listen 127.0.0.1:$EDGE_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        access_log $TMP/logs/unexpected.log sqbad if=\$sq_not200;

        location = /static200 {
            return 200 "ok\n";
        }

        location = /static403 {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not403;
            default_type application/json;
            return 403 '{"success": false, "error": {"code": "FORBIDDEN", "message": "You do not have access to this workspace."}}';
        }

        location /proxy/ {
            proxy_pass http://origin;
        }

        location /mod/ {
            smartlyq on;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }

        # the same as /mod/, for the deny cases (their own expected status)
        location /moddeny/ {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not403;
            smartlyq on;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }

        location /modnc/ {
            smartlyq on;
            smartlyq_cache off;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }

        location /modncdeny/ {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not403;
            smartlyq on;
            smartlyq_cache off;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }

        location = /metrics {
            smartlyq_metrics;
        }

        # === act (issue 16): as /mod/, activity recorded or not ===
        location /modact/ {
            smartlyq on;
            smartlyq_activity on;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }

        location /modactoff/ {
            smartlyq on;
            smartlyq_activity off;
            smartlyq_scope workspace:read;
            proxy_pass http://origin;
        }
        # === end act ===

        location /peer/ {
            access_by_lua_block {
                require("sqbench_peer").check(nil)
            }
            proxy_pass http://origin;
        }

        location /peerc/ {
            access_by_lua_block {
                require("sqbench_peer").check(ngx.shared.peer_cache)
            }
            proxy_pass http://origin;
        }

        # the module (its cache, as everywhere here) + the real backend
        location /v1/articles {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not_api;
            smartlyq on;
            smartlyq_scope articles;
            proxy_pass http://backend;
        }

        # the Lua peer of the backend (scripts/bench/sqbench_api.lua);
        # the body stays in memory (the backend's limit is 64 KiB)
        location = /peer/articles {
            access_log $TMP/logs/unexpected.log sqbad if=\$sq_not_api;
            client_max_body_size 64k;
            client_body_buffer_size 64k;
            content_by_lua_block {
                require("sqbench_api").articles(ngx.shared.peer_cache)
            }
        }

        location /static/ {
            default_type application/json;
            alias $TMP/html/;
        }
    }
$WAIT_CONF
}
EOF

nginx -p "$TMP" -e "$TMP/logs/error.log" -c "$TMP/nginx.conf" \
    2>>"$TMP/logs/nginx-stderr.log" &
NGINX_PID=$!
E=http://127.0.0.1:$EDGE_PORT
wait_for "nginx" curl -sf "$E/static200"

# 20 articles in ws1 for the list case, created through the edge
for i in $(seq 1 20); do
    body=$(printf '{"title": "Bench article %d", "body": "%s", "status": "published"}' \
           "$i" "$(printf 'lorem ipsum dolor sit amet %.0s' {1..6})")
    code=$(curl -s -o /dev/null -w '%{http_code}' \
           "$E/v1/articles?workspace_id=$ws1" \
           -H "Authorization: Bearer $alice_key" \
           -H 'Content-Type: application/json' -d "$body")
    [ "$code" = 201 ] || die "creating an article: HTTP $code"
done
LIST_PATH="/v1/articles?workspace_id=$ws1&limit=20"
curl -sf "$E$LIST_PATH" -H "Authorization: Bearer $alice_key" \
    > "$TMP/html/articles.json" || die "listing articles failed"
chmod 644 "$TMP/html/articles.json"

# ---------------------------------------------------------------- cases

# the body of every create request (wrk: scripts/bench/post.lua)
printf '{"title": "Bench create", "body": "%s", "status": "published"}' \
    "$(printf 'lorem ipsum dolor sit amet %.0s' {1..6})" > "$TMP/create.json"

AUTH="Authorization: Bearer $alice_key"
declare -A C_PATH C_HDR C_EXPECT C_LABEL C_LUA C_ARG
declare -A C_BASE   # issue 15: a case on another server block ($E if unset)
def() {     # def <id> <expect> <path> <auth header or -> <label>
            #     [wrk script and its argument]
    C_EXPECT[$1]=$2 C_PATH[$1]=$3 C_HDR[$1]=$4 C_LABEL[$1]=$5
    C_LUA[$1]=${6:-} C_ARG[$1]=${7:-}
}
def static200   200 /static200 - "nginx static \`return 200\` (limit)"
def static403   403 /static403 - "nginx static \`return 403\` envelope (limit)"
def proxy       200 /proxy/x - "plain proxy_pass, keepalive upstream (baseline)"
def mod_allow   200 "/mod/x?workspace_id=$ws1" "$AUTH" \
    "module allow, **cached** (warm) + proxy"
def mod_deny    403 "/moddeny/x?workspace_id=$wsb" "$AUTH" \
    "module deny 403 (foreign workspace), **cached**"
def mod_10k     200 "/mod/x?workspace_id=$ws1" - \
    "module allow, **cached**, $NKEYS keys rotating per request + proxy" \
    "$HERE/keys.lua" "$TMP/keys.txt"
def mod_allow_nc 200 "/modnc/x?workspace_id=$ws1" "$AUTH" \
    "module allow, **uncached** (1 Redis trip) + proxy"
def mod_deny_nc 403 "/modncdeny/x?workspace_id=$wsb" "$AUTH" \
    "module deny 403 (foreign workspace), **uncached**"
def mod_10k_nc  200 "/modnc/x?workspace_id=$ws1" - \
    "module allow, **uncached**, $NKEYS keys rotating per request + proxy" \
    "$HERE/keys.lua" "$TMP/keys.txt"
def peer        200 "/peer/x?workspace_id=$ws1" "$AUTH" \
    "Lua peer allow, uncached (HMGET + SISMEMBER) + proxy"
def peer_cached 200 "/peerc/x?workspace_id=$ws1" "$AUTH" \
    "Lua peer allow, shared-dict cache warm (TTL 10 s) + proxy"
def backend     200 "$LIST_PATH" "$AUTH" \
    "module (cached) → real backend, list 20 articles ($(stat -c %s "$TMP/html/articles.json") B)"
def static_json 200 /static/articles.json - \
    "nginx static JSON file of the same size (no module, no backend)"
def peer_list   200 "/peer/articles?workspace_id=$ws1&limit=20" "$AUTH" \
    "Lua peer (OpenResty, cjson) → Redis, list the same 20 articles, same JSON"
def backend_create 201 "/v1/articles?workspace_id=$wsc" "$AUTH" \
    "module (cached) → real backend, create 1 article (POST JSON, AOF fsync always)" \
    "$HERE/post.lua" "$TMP/create.json"
def peer_create 201 "/peer/articles?workspace_id=$wsc" "$AUTH" \
    "Lua peer (OpenResty, cjson) → Redis, create 1 article (INCR, MULTI)" \
    "$HERE/post.lua" "$TMP/create.json"
# issue 15, "sback"
def backend_create_wait1 201 "/v1/articles?workspace_id=$wsc" "$AUTH" \
    "module (cached) → real backend, create 1 article, **WAIT 1** on a replica (500 ms timeout)" \
    "$HERE/post.lua" "$TMP/create.json"
if [ -n "${WAIT_EDGE_PORT:-}" ]; then
    C_BASE[backend_create_wait1]=http://127.0.0.1:$WAIT_EDGE_PORT
fi

# one request of case $1 with curl; extra curl arguments after it
probe() {
    local c=$1 args=(-s)
    shift
    [ "${C_HDR[$c]}" = - ] || args+=(-H "${C_HDR[$c]}")
    case "${C_LUA[$c]}" in
    */keys.lua)
        args+=(-H "Authorization: Bearer $(head -1 "$TMP/keys.txt")") ;;
    */post.lua)
        args+=(-H 'Content-Type: application/json'
               --data-binary "@${C_ARG[$c]}") ;;
    esac
    curl "${args[@]}" "$@" "${C_BASE[$c]:-$E}${C_PATH[$c]}"
}

# === act (issue 16): the cost of recording key activity ===
def mod_act     200 "/modact/x?workspace_id=$ws1" "$AUTH" \
    "module allow, cached, **activity on** + proxy"
def mod_act_off 200 "/modactoff/x?workspace_id=$ws1" "$AUTH" \
    "module allow, cached, **activity off** + proxy"
def mod_act_10k 200 "/modact/x?workspace_id=$ws1" - \
    "module allow, cached, $NKEYS keys rotating, **activity on** + proxy" \
    "$HERE/keys.lua" "$TMP/keys.txt"
def mod_act_10k_off 200 "/modactoff/x?workspace_id=$ws1" - \
    "module allow, cached, $NKEYS keys rotating, **activity off** + proxy" \
    "$HERE/keys.lua" "$TMP/keys.txt"
# === end act ===

: > "$RES/cases.tsv"
for c in $CASES; do
    [ -n "${C_PATH[$c]:-}" ] || die "unknown case $c (known: $ALL_CASES)"
    code=$(probe "$c" -o /dev/null -w '%{http_code}')
    [ "$code" = "${C_EXPECT[$c]}" ] ||
        die "case $c: ${C_BASE[$c]:-$E}${C_PATH[$c]} gave $code, expected ${C_EXPECT[$c]}"
    printf '%s\t%s\t%s\n' "$c" "${C_LABEL[$c]}" "${C_EXPECT[$c]}" \
        >> "$RES/cases.tsv"
done
# every one of the 10k keys is valid: spot-check a few more
if [[ " $CASES " == *" mod_10k "* ]]; then
    for k in $(shuf -n 20 "$TMP/keys.txt"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' \
               "$E/mod/x?workspace_id=$ws1" -H "Authorization: Bearer $k")
        [ "$code" = 200 ] || die "a seeded key gave $code"
    done
fi

# the peers answer what the backend answers (scripts/bench/same.py): the
# list the same JSON, a create the same fields, and the record the peer
# wrote reads back through the backend as the peer rendered it.  Not the
# same JSON: the bench stops.  The same JSON in other bytes: it says so,
# and so does the report (the two cases then move other byte counts).
same() {    # same <what> <same.py arguments...>
    local what=$1 rc=0
    shift
    python3 "$HERE/same.py" "$@" 2> "$TMP/same.err" || rc=$?
    case $rc in
    0)  say "$what: the same bytes as the backend" ;;
    2)  say "WARNING: $what: $(cat "$TMP/same.err")"
        echo "$what: $(cat "$TMP/same.err")" >> "$RES/same.txt" ;;
    *)  die "$what does not answer what the backend does:" \
            "$(cat "$TMP/same.err")" ;;
    esac
}
if [[ " $CASES " == *" peer_list "* ]]; then
    probe peer_list > "$TMP/peer-list.json"
    same peer_list list "$TMP/html/articles.json" "$TMP/peer-list.json"
fi
if [[ " $CASES " == *" peer_create "* ]]; then
    probe backend_create > "$TMP/backend-create.json"
    probe peer_create > "$TMP/peer-create.json"
    ids=$(python3 -c 'import json, sys
for f in sys.argv[1:]:
    print(json.load(open(f))["data"]["id"])' "$TMP/backend-create.json" \
        "$TMP/peer-create.json") || die "a create gave no id"
    { read -r bid; read -r pid; } <<< "$ids"
    curl -sf "$E/v1/articles/$pid?workspace_id=$wsc" -H "$AUTH" \
        > "$TMP/peer-create-get.json" || die "GET of the peer's article"
    for id in "$bid" "$pid"; do
        rcli --raw hgetall "sq:ws:{w$wsc}:rec:article:$id" > "$TMP/record.$id"
    done
    # the backend's stored rendering, from its index's rendering hash
    # (redis/SCHEMA.md), as a field _json of its record for same.py
    { echo _json; rcli --raw hget "sq:ws:{w$wsc}:articles:json" "$bid"; } \
        >> "$TMP/record.$bid"
    same "peer_create (ids $bid, $pid)" create \
        "$TMP/backend-create.json" "$TMP/peer-create.json" \
        "$TMP/peer-create-get.json" "$TMP/record.$bid" "$TMP/record.$pid"
fi

run_wrk() {     # run_wrk <case> <secs> <output>
    local c=$1 args=(-t "$THREADS" -c "$CONNS" -d "${2}s" --latency)
    [ "${C_HDR[$c]}" = - ] || args+=(-H "${C_HDR[$c]}")
    if [ -n "${C_LUA[$c]}" ]; then
        args+=(-s "${C_LUA[$c]}" "${C_BASE[$c]:-$E}${C_PATH[$c]}" -- \
               "${C_ARG[$c]}")
    else
        args+=("${C_BASE[$c]:-$E}${C_PATH[$c]}")
    fi
    wrk "${args[@]}" > "$3" 2>&1 || die "wrk failed on $c: $(cat "$3")"
}

nginx_v=$(nginx -v 2>&1 | sed 's/^nginx version: //')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "nproc $(nproc), ${cpu:-unknown CPU}, kernel $(uname -r)," \
     "$nginx_v, $(redis-server --version | awk '{print $3}' | tr -d v=)" \
     "(Redis), $(wrk -v 2>&1 | awk 'NR==1 {print $1, $2}'), load before:" \
     "$(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)" \
     > "$RES/machine.txt"
echo "wrk -t $THREADS -c $CONNS -d ${SECS}s --latency, $RUNS runs per" \
     "case interleaved, ${WARMUP}s warm-up each; one nginx, 1 worker," \
     "access_log off; p50/p99 are medians over the runs; the backend" \
     "$BACKEND_NOTE" \
     > "$RES/settings.txt"

ncases=$(wc -l < "$RES/cases.tsv")
say "nginx :$EDGE_PORT, origin :$ORIGIN_PORT, backend :$BACKEND_PORT;" \
    "$ncases cases x $RUNS runs x ${SECS}s"
if (( WARMUP > 0 )); then
    for c in $CASES; do
        run_wrk "$c" "$WARMUP" "$RES/warmup.$c.log"
    done
fi
# the unexpected responses of one run: the lines nginx logged meanwhile
# (statuses), less 499: nginx's "client closed" for the requests still in
# flight when wrk stops, which wrk does not count either
UNEXPECTED=$TMP/logs/unexpected.log
touch "$UNEXPECTED"
# keep-alive check: TIME-WAIT sockets to or from a port (connections
# closed within the last 60 s), the backend's then the origin's
time_wait() {
    local p
    for p in "$BACKEND_PORT" "$ORIGIN_PORT"; do
        ss -Htan state time-wait "( sport = :$p or dport = :$p )" | wc -l
    done
}
echo "$CONNS" > "$RES/conns.txt"
# === act (issue 16): CPU ticks (utime + stime) of the nginx worker and of
# Redis around each run, for CPU per request (report.py), which a shared
# machine's load disturbs less than req/s does ===
cpu_ticks() {
    local p t=0 w=0
    for p in $(pgrep -P "$NGINX_PID"); do
        w=$(( w + $(awk '{print $14 + $15}' "/proc/$p/stat") ))
    done
    t=$(awk '{print $14 + $15}' "/proc/$REDIS_PID/stat")
    echo "$w $t"
}
getconf CLK_TCK > "$RES/clk_tck.txt"
# === end act ===
for r in $(seq 1 "$RUNS"); do
    line="run $r/$RUNS:"
    for c in $CASES; do
        n0=$(wc -l < "$UNEXPECTED")
        mapfile -t tw0 < <(time_wait)
        cpu0=$(cpu_ticks)                                   # act
        run_wrk "$c" "$SECS" "$RES/$c.$r.txt"
        echo "$cpu0 $(cpu_ticks)" > "$RES/$c.$r.cpu"          # act
        mapfile -t tw1 < <(time_wait)
        echo "$(( tw1[0] > tw0[0] ? tw1[0] - tw0[0] : 0 ))" \
             "$(( tw1[1] > tw0[1] ? tw1[1] - tw0[1] : 0 ))" > "$RES/$c.$r.tw"
        tail -n +"$((n0 + 1))" "$UNEXPECTED" | awk '$1 != 499 {print $1}' \
            | sort | uniq -c > "$RES/$c.$r.unexpected"
        rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$RES/$c.$r.txt")
        line="$line $c=$rps"
    done
    say "$line"
done

# the cache zone after every case: bytes per entry (whole slab pages in
# use over entries; the 10k-key case filled it with $NKEYS+ entries)
curl -sf "$E/metrics" > "$RES/metrics.txt" || true

# keep-alive upstreams: sockets to or from the backend's and the origin's
# ports in TIME-WAIT now, i.e. connections closed within the last 60 s
time_wait | paste -d' ' <(printf 'backend\norigin\n') - \
    > "$RES/time-wait.txt"
# Redis's persistence for the create cases, as it ran
# (and the file system under its AOF: tmpfs would make fsync free)
echo "$(rcli config get appendonly appendfsync | paste -sd' '), AOF on" \
     "$(findmnt -no FSTYPE -T "$TMP/redis")" > "$RES/redis-aof.txt"

# what Redis did meanwhile (the module's FCALL_RO and its usage flush:
# HINCRBY + EXPIRE + HSET per key and second), for a look with BENCH_KEEP=1
rcli info commandstats > "$RES/redis-commandstats.txt" || true

# ---------------------------------------------------------------- profiles

# the nginx worker(s) and the backend with any processes it forked
profiled_pids() {
    { pgrep -P "$NGINX_PID"; echo "$BACKEND_PID"; pgrep -P "$BACKEND_PID"; } \
        | paste -sd, -
}

for c in $PERF_CASES; do
    [ -n "${C_PATH[$c]:-}" ] || die "BENCH_PERF: unknown case $c"
    command -v perf >/dev/null || die "BENCH_PERF needs perf"
    say "profiling $c (perf record -g, ${SECS}s, not in the table)"
    perf record -g -o "$OUT/perf.$c.data" -p "$(profiled_pids)" \
        2> "$TMP/logs/perf.log" &
    perf_pid=$!
    sleep 0.5
    run_wrk "$c" "$SECS" "$OUT/perf.$c.wrk.txt"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    for sort in comm,dso comm,dso,sym; do
        perf report -i "$OUT/perf.$c.data" --no-children --sort "$sort" \
            --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
            | head -40
        echo
    done > "$OUT/perf.$c.txt" || true
    say "profile of $c: $OUT/perf.$c.txt"
done

# ---------------------------------------------------------------- revocation

if (( REVOKE_TRIALS > 0 )); then
    say "revocation latency through the cache ($REVOKE_TRIALS trials)"
    python3 "$HERE/revoke.py" 127.0.0.1 "$EDGE_PORT" \
        "/mod/x?workspace_id=$ws1" "$revoke_key" "$revoke_id" \
        "$REVOKE_TRIALS" "$RES/revoke.json" -- "$SQCTL" >&2
fi

if grep -E '\[(alert|crit|emerg)\]' "$TMP/logs/error.log" >&2; then
    say "WARNING: nginx logged alerts (see above)"
fi

cat > "$RES/notes.md" <<'EOF'
Notes: the mod_* cases use the decision cache (`smartlyq_cache`, 64m
zone, warm after the 1 s warm-up run); the `*_nc` cases turn it off for
their location, so each request makes one `FCALL_RO sq_authz` round trip
to Redis. The Lua peer (`scripts/bench/sqbench_peer.lua`) does less than
the module: a raw-key `HMGET` plus `SISMEMBER` (two round trips), no
digest, scopes, modes, expiry, body parsing or signature. The origin is a
`return 200` server block in the same nginx worker, so the proxy cases pay
for both sides. "unexpected" counts responses without the case's expected
status (nginx logs each with its status; 499s of requests cut off when
wrk stops excluded) plus socket errors, over all timed runs. wrk, Redis
and nginx share this machine's cores, so absolute numbers are only
comparable within one invocation. The 10k-key cases also run a wrk Lua
`request()` per request (about 1.8 µs of client CPU each) and make the
once-a-second usage flush write per distinct key (`HINCRBY` + `EXPIRE` +
`HSET sq:keyuse`).

The backend cases go through the module with its cache, then the backend
(signature check, membership re-read, and for a create the nonce claim
and the write, in whatever Redis calls the backend makes). Their peers
(`scripts/bench/sqbench_api.lua`, OpenResty `content_by_lua` with
lua-resty-redis and cjson) authorize as the Lua peer with its shared-dict
cache, and re-read membership on every request too, pipelined with their
first data command: peer_list is `SISMEMBER` + `ZRANGEBYSCORE`, then one
pipelined `HMGET` per record, and writes the backend's JSON byte for byte
(checked before the runs); peer_create validates the body with cjson by
the article schema, then `SISMEMBER` + `INCR`, then `MULTI`, `HSET` of
the record with the backend's fields, `ZADD` to the index, `EXEC` (one
pipelined trip). The create cases write into a workspace of their
own, each request a new article; Redis runs with `appendfsync always`, so
each acknowledged write waited for an fsync (Redis batches the fsync of
one event-loop pass over all clients).
EOF

python3 "$HERE/report.py" "$RES" "$OUT/latest.md"
say "written to $OUT/latest.md"
