# shellcheck shell=bash
# The SmartlyQ stack on localhost, for scripts/run.sh (`make run`) and
# scripts/load.sh (`make load`): Redis, the backend and nginx with the
# module, all under one directory.  Source it after setting:
#   ROOT BUILD RUN                      the repository, build/ and the run dir
#   EDGE_PORT BACKEND_PORT REDIS_PORT   where the servers listen
# and optionally SQ_BACKEND_WORKERS (the backend's --workers).
# then call stack_prepare, stack_redis_start, stack_backend_start and
# stack_nginx_start; stack_stop stops whatever is running.  rcli is
# redis-cli for that Redis.
#
# Redis wants a password: $RUN/secrets/redis-password (`sqctl secret`,
# kept across runs) is what nginx, the backend and sqctl read, and
# $RUN/secrets/redis-auth.conf (`requirepass ...`, made from it) is
# included by redis-server, so that the password is in no command line.

SQCTL=$BUILD/sqctl

REDIS_PID=
BACKEND_PID=
NGINX_PID=

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_free() {
    ! port_open "$1"
}

# a port nothing listens on now
free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
        LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'
}

wait_for() {    # wait_for <what> <command...>; WAIT_SECS (10) at most
    local what=$1 i
    shift
    for i in $(seq 1 $(( ${WAIT_SECS:-10} * 10 ))); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "stack: $what did not come up; see $RUN/logs/" >&2
    return 1
}

# what an earlier run may have left behind
stack_stale() {
    local f
    for f in "$RUN/logs/nginx.pid" "$RUN/redis.pid" "$RUN/backend.pid"; do
        if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
            kill "$(cat "$f")" 2>/dev/null || true
            sleep 0.3
        fi
        rm -f "$f"
    done
}

# directories, free ports, secrets (kept across runs); sqctl's settings
stack_prepare() {
    local port s
    export SMARTLYQ_REDIS=127.0.0.1:$REDIS_PORT
    export SMARTLYQ_PEPPER_FILE=$RUN/secrets/pepper
    export SMARTLYQ_REDIS_PASSWORD_FILE=$RUN/secrets/redis-password
    mkdir -p "$RUN"/{logs,redis,secrets,tmp}
    chmod 700 "$RUN/secrets"
    stack_stale
    for port in "$EDGE_PORT" "$BACKEND_PORT" "$REDIS_PORT"; do
        if ! port_free "$port"; then
            echo "stack: port $port on 127.0.0.1 is taken (set SQ_EDGE_PORT," \
                 "SQ_BACKEND_PORT or SQ_REDIS_PORT)" >&2
            return 1
        fi
    done
    for s in pepper signing redis-password; do
        if [ ! -s "$RUN/secrets/$s" ]; then
            (umask 077; "$SQCTL" secret > "$RUN/secrets/$s")
        fi
    done
    (umask 077; echo "requirepass $(cat "$RUN/secrets/redis-password")" \
        > "$RUN/secrets/redis-auth.conf")
}

# redis-cli with the password in its environment only
rcli() {
    REDISCLI_AUTH=$(cat "$RUN/secrets/redis-password") \
        redis-cli -p "$REDIS_PORT" "$@"
}

# PONG, not an error such as LOADING while the AOF is replayed
redis_pong() {
    [ "$(rcli ping 2>/dev/null)" = PONG ]
}

# Redis with redis/redis.conf (AOF, fsync always) in $RUN/redis, and the
# function library loaded; a large AOF may take a while to load
stack_redis_start() {
    redis-server "$ROOT/redis/redis.conf" --port "$REDIS_PORT" \
        --dir "$RUN/redis" --pidfile "$RUN/redis.pid" \
        --logfile "$RUN/logs/redis.log" \
        --include "$RUN/secrets/redis-auth.conf" &
    REDIS_PID=$!
    WAIT_SECS=120 wait_for "Redis" redis_pong
    "$SQCTL" init --functions "$ROOT/redis/smartlyq.lua" >/dev/null
}

# the backend: a supervisor (its pid in backend.pid and BACKEND_PID: the
# workers stop with it) and SQ_BACKEND_WORKERS processes on the port, by
# default the CPU count
stack_backend_start() {
    "$BUILD/smartlyq-backend" --listen "127.0.0.1:$BACKEND_PORT" \
        --redis "127.0.0.1:$REDIS_PORT" \
        --signing-key-file "$RUN/secrets/signing" \
        --pepper-file "$RUN/secrets/pepper" \
        --redis-password-file "$RUN/secrets/redis-password" \
        --functions "$ROOT/redis/smartlyq.lua" \
        ${SQ_BACKEND_WORKERS:+--workers "$SQ_BACKEND_WORKERS"} \
        --pid-file "$RUN/backend.pid" 2>>"$RUN/logs/backend.log" &
    BACKEND_PID=$!
    wait_for "the backend" port_open "$BACKEND_PORT"
}

# nginx with every route of conf/smartlyq-routes.conf; $1 workers
stack_nginx_start() {
    local workers=${1:-2}
    cat > "$RUN/nginx.conf" <<EOF
load_module $BUILD/ngx_http_smartlyq_module.so;

daemon off;
worker_processes $workers;
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
    smartlyq_redis_password_file $RUN/secrets/redis-password;
    smartlyq_key_pepper_file $RUN/secrets/pepper;
    smartlyq_signing_key_file $RUN/secrets/signing;
    # answers shared by the workers, dropped on every change (keyspace
    # notifications, see redis/redis.conf)
    smartlyq_cache_zone zone=smartlyq:32m ttl=30s negative_ttl=5s;
    smartlyq_cache smartlyq;

    upstream smartlyq_backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$EDGE_PORT;

        # every route with the scope it needs; nginx's own error pages
        # (400, 413, 502, 504...) are envelopes too, from the module
        include $ROOT/conf/smartlyq-routes.conf;
        # issue 14: the OAuth endpoints (sign-in, consent, token, ...)
        include $ROOT/conf/smartlyq-oauth.conf;
        include $ROOT/conf/smartlyq-console.conf;

        # Prometheus text from the module's shared counters; loopback only
        location = /metrics {
            smartlyq off;
            allow 127.0.0.1;
            deny all;
            smartlyq_metrics;
        }

        location = /healthz {
            return 200 '{"success": true, "data": {"status": "ok"}}';
        }

        location / {
            return 404 '{"success": false, "error": {"code": "NOT_FOUND", "message": "No such route."}}';
        }
    }
}
EOF
    nginx -p "$RUN" -c "$RUN/nginx.conf" &
    NGINX_PID=$!
    wait_for "nginx" curl -sf "http://127.0.0.1:$EDGE_PORT/healthz"
}

stack_stop() {
    if [ -f "$RUN/logs/nginx.pid" ]; then
        kill -QUIT "$(cat "$RUN/logs/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    fi
    local pid
    for pid in $NGINX_PID $BACKEND_PID $REDIS_PID; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
