#!/usr/bin/env bash
# `make load` (LOAD_SECS=60 by default; `make load LOAD_SECS=600` by hand):
# mixed traffic against a throw-away stack (scripts/stack.sh on free ports
# in a temporary directory), with faults on the way:
#   - wrk (scripts/load/mix.lua): allowed reads, foreign-workspace reads,
#     creates, and a key that sqctl disables and enables every second;
#   - one nginx reload at 1/3 of the run, one Redis kill -9 and restart
#     at 2/3.
# Then it checks that every acknowledged (201) create is in Redis, that no
# create is stored twice, that no 200 showed the other tenant's workspace,
# that every status was an expected one and that no worker crashed, and
# prints a summary.  Exit status 1 if any check fails.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SQ_BUILD:-$ROOT/build}
LOAD_SECS=${LOAD_SECS:-60}
LOAD_THREADS=${LOAD_THREADS:-2}
LOAD_CONNS=${LOAD_CONNS:-16}

if ! command -v wrk >/dev/null; then
    echo "load: wrk is missing (apt-get install wrk, or make deps)" >&2
    exit 1
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/sqload-XXXXXX")
chmod 755 "$RUN"        # nginx workers spill bodies under it

# shellcheck source=scripts/stack.sh
. "$ROOT/scripts/stack.sh"
EDGE_PORT=$(free_port)
BACKEND_PORT=$(free_port)
REDIS_PORT=$(free_port)

FLIPPER=
WRK=
cleanup() {
    trap - INT TERM EXIT
    [ -n "$FLIPPER" ] && kill "$FLIPPER" 2>/dev/null || true
    [ -n "$WRK" ] && kill "$WRK" 2>/dev/null || true
    stack_stop
    if [ -z "${LOAD_KEEP:-}" ]; then
        rm -rf "$RUN"
    else
        echo "load: kept $RUN"
    fi
}
trap cleanup INT TERM EXIT

stack_prepare
stack_redis_start

alice=$("$SQCTL" user create --email alice@example.com --name Alice)
bob=$("$SQCTL" user create --email bob@example.com --name Bob)
ws1=$("$SQCTL" workspace create --owner "$alice" --name "Alice One")
wsb=$("$SQCTL" workspace create --owner "$bob" --name "Bob Studio")
alice_key=$("$SQCTL" key create --user "$alice" --name load 2>/dev/null)
flip_key=$("$SQCTL" key create --user "$alice" --name flip 2>/dev/null)
flip_id=$("$SQCTL" key list --user "$alice" | awk -F'\t' '$3 == "flip" {print $1}')

stack_backend_start
stack_nginx_start 2

export LOAD_ALICE_KEY=$alice_key LOAD_FLIP_KEY=$flip_key LOAD_WS1=$ws1 \
       LOAD_WSB=$wsb LOAD_OUT=$RUN
echo "load: ${LOAD_SECS}s of wrk -t$LOAD_THREADS -c$LOAD_CONNS against" \
     "127.0.0.1:$EDGE_PORT (run dir $RUN)"
wrk -t"$LOAD_THREADS" -c"$LOAD_CONNS" -d"${LOAD_SECS}s" \
    -s "$ROOT/scripts/load/mix.lua" "http://127.0.0.1:$EDGE_PORT" \
    > "$RUN/wrk.txt" 2>&1 &
WRK=$!

# the flip key: disabled and enabled again, every second
(
    while :; do
        "$SQCTL" key disable --id "$flip_id" >/dev/null 2>&1 || true
        sleep 0.5
        "$SQCTL" key enable --id "$flip_id" >/dev/null 2>&1 || true
        sleep 0.5
    done
) &
FLIPPER=$!

sleep $((LOAD_SECS / 3))
echo "load: nginx reload"
kill -HUP "$(cat "$RUN/logs/nginx.pid")"

sleep $((LOAD_SECS / 3))
echo "load: Redis kill -9 and restart"
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
t0=$(date +%s.%N)
stack_redis_start
t1=$(date +%s.%N)

wait "$WRK" || { cat "$RUN/wrk.txt"; echo "load: wrk failed" >&2; exit 1; }
WRK=
kill "$FLIPPER" 2>/dev/null || true
FLIPPER=

# --- checks -------------------------------------------------------------
fail=0
declare -A count
while read -r what n; do
    case $what in
        p50_ms|p99_ms) count[$what]=$n ;;
        *) count[$what]=$(( ${count[$what]:-0} + n )) ;;
    esac
done < "$RUN/counts.txt"

total=0 unexpected=0 by=""
for s in $(printf '%s\n' "${!count[@]}" | grep -E '^[0-9]+$' | sort -n); do
    total=$((total + count[$s]))
    by="$by $s: ${count[$s]},"
    case $s in
        200|201|401|403|503) ;;
        *) unexpected=$((unexpected + count[$s])) ;;
    esac
done

acked=$(wc -l < "$RUN/acked.txt")
awk -v w="$ws1" '{print "HGET sq:ws:{w" w "}:rec:article:" $2 " title"}' \
    "$RUN/acked.txt" > "$RUN/hget.txt"
rcli < "$RUN/hget.txt" > "$RUN/stored.txt"
lost=$(paste -d' ' "$RUN/acked.txt" "$RUN/stored.txt" \
       | awk '$1 != $3 {n++} END {print n + 0}')

rcli zrange "sq:ws:{w$ws1}:articles" 0 -1 \
    | awk -v w="$ws1" '{print "HGET sq:ws:{w" w "}:rec:article:" $1 " title"}' \
    > "$RUN/all.txt"
dupes=$(rcli < "$RUN/all.txt" | sort | uniq -d | wc -l)

crashes=$(grep -c 'exited on signal' "$RUN/logs/error.log" || true)
reloads=$(grep -cE '[0-9]+#[0-9]+: reconfiguring$' "$RUN/logs/error.log" || true)

echo
echo "load summary (${LOAD_SECS}s, wrk -t$LOAD_THREADS -c$LOAD_CONNS," \
     "1 reload, 1 Redis kill -9 + restart):"
echo "  requests:           $total, by status:${by%,}"
echo "  latency:            p50 ${count[p50_ms]:-?} ms, p99 ${count[p99_ms]:-?} ms"
echo "  flip key:           disabled/enabled every 0.5 s by sqctl (the 401s)"
echo "  socket errors:      ${count[socket_errors]:-0} (keep-alive connections" \
     "closed by the reload and the like)"
echo "  acked creates:      $acked"
echo "  lost:               $lost"
echo "  stored twice:       $dupes"
echo "  cross-tenant 200s:  ${count[leaks]:-0}"
echo "  unexpected status:  $unexpected"
echo "  Redis back after:   $(awk -v a="$t0" -v b="$t1" "BEGIN {printf \"%.2f\", b - a}") s (restart to PONG and functions loaded)"
echo "  reloads:            $reloads"
echo "  worker crashes:     $crashes"

[ "$lost" -eq 0 ] || { echo "load: FAIL: acknowledged creates lost" >&2; fail=1; }
[ "$dupes" -eq 0 ] || { echo "load: FAIL: creates stored twice" >&2; fail=1; }
[ "${count[leaks]:-0}" -eq 0 ] || { echo "load: FAIL: cross-tenant data" >&2; fail=1; }
[ "$unexpected" -eq 0 ] || { echo "load: FAIL: unexpected statuses" >&2; fail=1; }
[ "$crashes" -eq 0 ] || { echo "load: FAIL: a worker crashed" >&2; fail=1; }
[ "$acked" -gt 0 ] || { echo "load: FAIL: no create acknowledged" >&2; fail=1; }

if [ "$fail" -eq 0 ]; then
    echo "load: OK"
fi
exit "$fail"
