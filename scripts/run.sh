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
ALICE_ID=$alice
BOB_ID=$bob
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

# issue 14 (browser): the OAuth demo, made once and kept (mode 600): a
# password for Alice's sign-in and "Demo Partner App", a confidential app
# of Bob's workspace whose redirect URI is a loopback listener
# (scripts/oauth-client.py's, when it waits for a browser)
OAUTH=$RUN/secrets/oauth-demo.env
OAUTH_CB=http://127.0.0.1:${SQ_OAUTH_CB_PORT:-8765}/cb
OAUTH_SCOPES="social:read workspace:read chatbots:write"
oauth_cid=$(sed -n 's/^APP_CLIENT_ID=//p' "$OAUTH" 2>/dev/null || true)
if [ -z "$oauth_cid" ] || [ -z "$(rcli get "sq:appclient:$oauth_cid")" ]
then
    # a demo seeded before issue 14 has no ids in demo.env: the owners of
    # its workspaces
    ALICE_ID=${ALICE_ID:-$(rcli hget "sq:ws:{w$ALICE_WS1}" owner_id)}
    BOB_ID=${BOB_ID:-$(rcli hget "sq:ws:{w$BOB_WS}" owner_id)}
    pw=$("$SQCTL" secret | cut -c1-24)
    printf '%s\n' "$pw" | "$SQCTL" user password --id "$ALICE_ID"
    app=$("$SQCTL" app create --workspace "$BOB_WS" --owner "$BOB_ID" \
        --name "Demo Partner App" --redirect-uris "$OAUTH_CB" \
        --scopes "$OAUTH_SCOPES")
    (umask 077; printf '%s' "$app" | /usr/bin/python3 -c '
import json, sys
a = json.load(sys.stdin)
print("ALICE_PASSWORD=%s" % sys.argv[1])
print("APP_ID=%s" % a["id"])
print("APP_CLIENT_ID=%s" % a["client_id"])
print("APP_SECRET=%s" % a["client_secret"])' "$pw" > "$OAUTH")
fi
# shellcheck disable=SC1090
. "$OAUTH"
# a PKCE pair for the curl walkthrough (S256: base64url of the SHA-256)
VERIFIER=$("$SQCTL" secret)
CHALLENGE=$(/usr/bin/python3 -c 'import base64, hashlib, sys
print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode())
      .digest()).decode().rstrip("="))' "$VERIFIER")

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

EOF

# issue 14 (browser): API Applications, the OAuth 2 walkthrough
urlenc() {
    /usr/bin/python3 -c 'import sys, urllib.parse
print(urllib.parse.quote_plus(sys.argv[1]))' "$1"
}
Q="client_id=$APP_CLIENT_ID&redirect_uri=$(urlenc "$OAUTH_CB")"
Q="$Q&response_type=code&scope=$(urlenc "$OAUTH_SCOPES")&state=demo"
Q="$Q&code_challenge=$CHALLENGE&code_challenge_method=S256"
OC="$ROOT/scripts/oauth-client.py --base $E --client-id $APP_CLIENT_ID"
OC="$OC --redirect-uri $OAUTH_CB --scope \"$OAUTH_SCOPES\""
cat <<EOF
# --- API Applications (OAuth 2) ---------------------------------------
# "Demo Partner App": app $APP_ID, confidential, owned by Bob Studio ($BOB_WS);
# client_id $APP_CLIENT_ID, its secret in $OAUTH;
# redirect URI $OAUTH_CB, scopes $OAUTH_SCOPES.
# Alice signs in as alice@example.com, password $ALICE_PASSWORD

# the server's metadata (RFC 8414)
curl -s $E/.well-known/oauth-authorization-server

# in a browser: sign in, read the consent page, Approve or Deny; you land on
# $OAUTH_CB?code=...&state=demo (nothing listens there unless the client below runs)
$E/oauth/authorize?$Q

# a standard client, requests-oauthlib unchanged (PKCE, token, API call,
# refresh, revoke): it prints an authorize URL and waits on $OAUTH_CB ...
SQ_CLIENT_SECRET=$APP_SECRET /usr/bin/python3 $OC
# ... or hands-free, signing in and approving by form posts
SQ_OAUTH_PASSWORD=$ALICE_PASSWORD SQ_CLIENT_SECRET=$APP_SECRET /usr/bin/python3 $OC --email alice@example.com --workspace "Alice Sales" --api /v1/social/accounts

# the same by curl: sign in (the session cookie into a jar)
J=\$(mktemp)
curl -s -c \$J -o /dev/null $E/signin --data-urlencode email=alice@example.com --data-urlencode password=$ALICE_PASSWORD
# the consent page's CSRF token; Approve for Alice Sales ($ALICE_WS2): the redirect carries the code
CSRF=\$(curl -s -b \$J "$E/oauth/authorize?$Q" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
CODE=\$(curl -s -b \$J -o /dev/null -w '%{redirect_url}' $E/oauth/authorize -d "$Q" -d csrf=\$CSRF -d workspace_id=$ALICE_WS2 -d decision=approve | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
# the code and the PKCE verifier for tokens (client_secret_basic)
TOK=\$(curl -s -u $APP_CLIENT_ID:$APP_SECRET $E/oauth/token -d grant_type=authorization_code -d code=\$CODE --data-urlencode redirect_uri=$OAUTH_CB -d code_verifier=$VERIFIER); echo \$TOK
AT=\$(echo \$TOK | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p'); RT=\$(echo \$TOK | sed -n 's/.*"refresh_token": *"\([^"]*\)".*/\1/p')
# 200: the API with the sqo_ token, Alice Sales only; 403: never key management
curl -s $E/v1/social/accounts -H "Authorization: Bearer \$AT"
curl -si $E/v1/keys -H "Authorization: Bearer \$AT"
# refresh (the refresh token rotates), then revoke the new one (RFC 7009)
TOK=\$(curl -s -u $APP_CLIENT_ID:$APP_SECRET $E/oauth/token -d grant_type=refresh_token -d refresh_token=\$RT); echo \$TOK
RT2=\$(echo \$TOK | sed -n 's/.*"refresh_token": *"\([^"]*\)".*/\1/p')
curl -si -u $APP_CLIENT_ID:$APP_SECRET $E/oauth/revoke -d token=\$RT2
# 400 invalid_grant: the first refresh token again
curl -s -u $APP_CLIENT_ID:$APP_SECRET $E/oauth/token -d grant_type=refresh_token -d refresh_token=\$RT
# the app's authorize outcomes and authorizations (sqctl reads these from the environment:
# SMARTLYQ_REDIS=$SMARTLYQ_REDIS SMARTLYQ_PEPPER_FILE=$SMARTLYQ_PEPPER_FILE SMARTLYQ_REDIS_PASSWORD_FILE=$SMARTLYQ_REDIS_PASSWORD_FILE)
$SQCTL app outcomes --id $APP_ID
$SQCTL app authorizations --id $APP_ID

Ctrl-C stops Redis, the backend and nginx.
EOF

wait -n "$REDIS_PID" "$BACKEND_PID" "$NGINX_PID" || true
echo "run: a server exited; see $RUN/logs/" >&2
