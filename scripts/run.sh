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

# shellcheck source=scripts/stack.sh
. "$ROOT/scripts/stack.sh"

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping..."
    stack_stop
    echo "stopped."
}

stack_prepare
trap stop_all INT TERM EXIT
stack_redis_start

# demo tenant, seeded once; its keys are kept (mode 600) for later runs
DEMO=$RUN/secrets/demo.env
if [ "$(rcli get sq:demo:seeded)" != "1" ] \
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
    # the demo's one admin key (keys:manage); the others get the default,
    # every scope but keys:manage
    ka=$("$SQCTL" key create --user "$alice" --name "alice demo" \
        --scopes all)
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
    rcli set sq:demo:seeded 1 >/dev/null
fi
# shellcheck disable=SC1090
. "$DEMO"

stack_backend_start
stack_nginx_start 2

E=http://127.0.0.1:$EDGE_PORT
cat <<EOF

SmartlyQ edge is up on $E  (Redis 127.0.0.1:$REDIS_PORT, backend 127.0.0.1:$BACKEND_PORT)
Logs: $RUN/logs/   Demo keys: $DEMO
Metrics (Prometheus text, from 127.0.0.1 only): $E/metrics

# the module's counters: decisions, refusals by code, Redis, the cache
curl -s $E/metrics

# 200: Alice's profile and workspaces
curl -s $E/v1/me -H "Authorization: Bearer $ALICE_KEY"

# 200: Alice's social accounts in her workspace $ALICE_WS1, then across all of hers
curl -s "$E/v1/social/accounts?workspace_id=$ALICE_WS1" -H "Authorization: Bearer $ALICE_KEY"
curl -s $E/v1/social/accounts -H "Authorization: Bearer $ALICE_KEY"

# 201: Alice creates a chatbot in workspace $ALICE_WS2 (workspace_id in the JSON body)
curl -s $E/v1/chatbots -H "Authorization: Bearer $ALICE_KEY" -H 'Content-Type: application/json' -d '{"workspace_id": $ALICE_WS2, "name": "Support bot", "model": "gpt-4o"}'

# 403: Alice asks for Bob's workspace $BOB_WS
curl -si "$E/v1/social/accounts?workspace_id=$BOB_WS" -H "Authorization: Bearer $ALICE_KEY"

# 200, then 403: ALICE_KEY is the demo's one admin key (every scope, keys:manage
# included: sqctl key create --scopes all). BOB_KEY has the default, every scope
# but keys:manage, so it cannot use /v1/keys.
curl -s $E/v1/keys -H "Authorization: Bearer $ALICE_KEY"
curl -si $E/v1/keys -H "Authorization: Bearer $BOB_KEY"

# 401: no key, an unknown key, a disabled key
curl -si $E/v1/me
curl -si $E/v1/me -H "Authorization: Bearer sqk_live_$(printf '0%.0s' {1..40})"
curl -si $E/v1/me -H "Authorization: Bearer $DISABLED_KEY"

# 400: an ambiguous workspace_id
curl -si "$E/v1/social/accounts?workspace_id=$ALICE_WS1&workspace_id=$ALICE_WS2" -H "Authorization: Bearer $ALICE_KEY"

Ctrl-C stops Redis, the backend and nginx.
EOF

wait -n "$REDIS_PID" "$BACKEND_PID" "$NGINX_PID" || true
echo "run: a server exited; see $RUN/logs/" >&2
