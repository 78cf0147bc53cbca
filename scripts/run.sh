#!/usr/bin/env bash
# `make run`: Redis + backend + nginx with the SmartlyQ module on localhost,
# a demo tenant seeded once, and curl lines that show 200, 403 and 401.
# Ctrl-C stops everything; running it again picks up the same data.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SQ_BUILD:-$ROOT/build}
RUN=$BUILD/run
EDGE_PORT=${SQ_EDGE_PORT:-8080}
BACKEND_PORT=${SQ_BACKEND_PORT:-8081}
REDIS_PORT=${SQ_REDIS_PORT:-6390}
SQCTL=$BUILD/sqctl
export SMARTLYQ_REDIS=127.0.0.1:$REDIS_PORT
export SMARTLYQ_PEPPER_FILE=$RUN/secrets/pepper

pids=()

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping..."
    if [ -f "$RUN/logs/nginx.pid" ]; then
        kill -QUIT "$(cat "$RUN/logs/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "stopped."
}

# what an earlier run may have left behind
stale() {
    local f
    for f in "$RUN/logs/nginx.pid" "$RUN/redis.pid" "$RUN/backend.pid"; do
        if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
            kill "$(cat "$f")" 2>/dev/null || true
            sleep 0.3
        fi
        rm -f "$f"
    done
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_free() {
    ! port_open "$1"
}

wait_for() {    # wait_for <what> <command...>
    local what=$1 i
    shift
    for i in $(seq 1 50); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "run: $what did not come up; see $RUN/logs/" >&2
    return 1
}

mkdir -p "$RUN"/{logs,redis,secrets,tmp}
chmod 700 "$RUN/secrets"
stale

for port in "$EDGE_PORT" "$BACKEND_PORT" "$REDIS_PORT"; do
    if ! port_free "$port"; then
        echo "run: port $port on 127.0.0.1 is taken (set SQ_EDGE_PORT," \
             "SQ_BACKEND_PORT or SQ_REDIS_PORT)" >&2
        exit 1
    fi
done

for s in pepper signing; do
    if [ ! -s "$RUN/secrets/$s" ]; then
        (umask 077; "$SQCTL" secret > "$RUN/secrets/$s")
    fi
done

trap stop_all INT TERM EXIT

redis-server "$ROOT/redis/redis.conf" --port "$REDIS_PORT" \
    --dir "$RUN/redis" --pidfile "$RUN/redis.pid" \
    --logfile "$RUN/logs/redis.log" &
pids+=($!)
wait_for "Redis" redis-cli -p "$REDIS_PORT" ping

"$SQCTL" init --functions "$ROOT/redis/smartlyq.lua" >/dev/null

# demo tenant, seeded once; its keys are kept (mode 600) for later runs
DEMO=$RUN/secrets/demo.env
if [ "$(redis-cli -p "$REDIS_PORT" get sq:demo:seeded)" != "1" ] \
   || [ ! -s "$DEMO" ]
then
    alice=$("$SQCTL" user create --email alice@example.com --name Alice)
    bob=$("$SQCTL" user create --email bob@example.com --name Bob)
    a1=$("$SQCTL" workspace create --owner "$alice" --name "Alice Marketing")
    a2=$("$SQCTL" workspace create --owner "$alice" --name "Alice Sales")
    b1=$("$SQCTL" workspace create --owner "$bob" --name "Bob Studio")
    "$SQCTL" account create --workspace "$a1" --platform twitter \
        --handle @alice_marketing >/dev/null
    "$SQCTL" account create --workspace "$a2" --platform linkedin \
        --handle alice-sales >/dev/null
    "$SQCTL" account create --workspace "$b1" --platform instagram \
        --handle @bob.studio >/dev/null
    ka=$("$SQCTL" key create --user "$alice" --name "alice demo")
    kb=$("$SQCTL" key create --user "$bob" --name "bob demo")
    kd=$("$SQCTL" key create --user "$alice" --name "alice retired")
    kd_id=$("$SQCTL" key list --user "$alice" | awk '/retired/ {print $1}')
    "$SQCTL" key disable --id "$kd_id" >/dev/null
    (umask 077; cat > "$DEMO" <<EOF
ALICE_KEY=$ka
BOB_KEY=$kb
DISABLED_KEY=$kd
ALICE_WS1=$a1
ALICE_WS2=$a2
BOB_WS=$b1
EOF
)
    redis-cli -p "$REDIS_PORT" set sq:demo:seeded 1 >/dev/null
fi
# shellcheck disable=SC1090
. "$DEMO"

"$BUILD/smartlyq-backend" --listen "127.0.0.1:$BACKEND_PORT" \
    --redis "127.0.0.1:$REDIS_PORT" \
    --signing-key-file "$RUN/secrets/signing" \
    --pepper-file "$RUN/secrets/pepper" \
    --functions "$ROOT/redis/smartlyq.lua" \
    --pid-file "$RUN/backend.pid" 2>>"$RUN/logs/backend.log" &
pids+=($!)
wait_for "the backend" port_open "$BACKEND_PORT"

cat > "$RUN/nginx.conf" <<EOF
load_module $BUILD/ngx_http_smartlyq_module.so;

daemon off;
worker_processes 2;
# notice, not info: nginx's core quotes refused header lines (a duplicated
# Authorization, its full key included) in info-level client errors
error_log $RUN/logs/error.log notice;
pid $RUN/logs/nginx.pid;

events {
    worker_connections 1024;
}

http {
    default_type application/json;
    client_body_temp_path $RUN/tmp/body;
    proxy_temp_path $RUN/tmp/proxy;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    scgi_temp_path $RUN/tmp/scgi;

    log_format smartlyq '\$remote_addr [\$time_local] "\$request" \$status '
                        'decision=\$smartlyq_decision user=\$smartlyq_user_id '
                        'key=\$smartlyq_key_id ws=\$smartlyq_workspace_id '
                        'cache=\$smartlyq_cache_status';
    access_log $RUN/logs/access.log smartlyq;

    smartlyq_redis 127.0.0.1:$REDIS_PORT;
    smartlyq_key_pepper_file $RUN/secrets/pepper;
    smartlyq_signing_key_file $RUN/secrets/signing;
    # answers shared by the workers, dropped on every change (keyspace
    # notifications, see redis/redis.conf)
    smartlyq_cache zone=smartlyq:32m ttl=30s negative_ttl=5s;

    upstream smartlyq_backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$EDGE_PORT;

        # nginx's own errors as envelopes too (the module's refusals
        # are answered by the module and never reach error_page)
        error_page 400 = @bad_request;
        error_page 413 = @too_large;
        error_page 502 504 = @backend_down;

        # every route with the scope it needs
        include $ROOT/conf/smartlyq-routes.conf;

        location = /healthz {
            return 200 '{"success": true, "data": {"status": "ok"}}';
        }

        location / {
            return 404 '{"success": false, "error": {"code": "NOT_FOUND", "message": "No such route."}}';
        }

        location @bad_request {
            return 400 '{"success": false, "error": {"code": "BAD_REQUEST", "message": "The request is malformed."}}';
        }

        location @too_large {
            return 413 '{"success": false, "error": {"code": "PAYLOAD_TOO_LARGE", "message": "The request body is too large."}}';
        }

        location @backend_down {
            return 502 '{"success": false, "error": {"code": "BAD_GATEWAY", "message": "The API is unavailable. Retry shortly."}}';
        }
    }
}
EOF

nginx -p "$RUN" -c "$RUN/nginx.conf" &
pids+=($!)
wait_for "nginx" curl -sf "http://127.0.0.1:$EDGE_PORT/healthz"

E=http://127.0.0.1:$EDGE_PORT
cat <<EOF

SmartlyQ edge is up on $E  (Redis 127.0.0.1:$REDIS_PORT, backend 127.0.0.1:$BACKEND_PORT)
Logs: $RUN/logs/   Demo keys: $DEMO

# 200: Alice's profile and workspaces
curl -s $E/v1/me -H "Authorization: Bearer $ALICE_KEY"

# 200: Alice's social accounts in her workspace $ALICE_WS1, then across all of hers
curl -s "$E/v1/social/accounts?workspace_id=$ALICE_WS1" -H "Authorization: Bearer $ALICE_KEY"
curl -s $E/v1/social/accounts -H "Authorization: Bearer $ALICE_KEY"

# 201: Alice creates a chatbot in workspace $ALICE_WS2 (workspace_id in the JSON body)
curl -s $E/v1/chatbots -H "Authorization: Bearer $ALICE_KEY" -H 'Content-Type: application/json' -d '{"workspace_id": $ALICE_WS2, "name": "Support bot", "model": "gpt-4o"}'

# 403: Alice asks for Bob's workspace $BOB_WS
curl -si "$E/v1/social/accounts?workspace_id=$BOB_WS" -H "Authorization: Bearer $ALICE_KEY"

# 401: no key, an unknown key, a disabled key
curl -si $E/v1/me
curl -si $E/v1/me -H "Authorization: Bearer sqk_live_$(printf '0%.0s' {1..40})"
curl -si $E/v1/me -H "Authorization: Bearer $DISABLED_KEY"

# 400: an ambiguous workspace_id
curl -si "$E/v1/social/accounts?workspace_id=$ALICE_WS1&workspace_id=$ALICE_WS2" -H "Authorization: Bearer $ALICE_KEY"

Ctrl-C stops Redis, the backend and nginx.
EOF

wait -n "${pids[@]}" || true
echo "run: a server exited; see $RUN/logs/" >&2
